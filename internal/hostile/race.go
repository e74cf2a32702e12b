//go:build race

package hostile

// RaceEnabled reports a build with the race detector, whose shadow memory
// and slower collection make memory figures meaningless.
const RaceEnabled = true
