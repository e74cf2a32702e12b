package socketio

import (
	"encoding/json"
	"testing"
)

// TestScanStringWordAtATime puts every byte value at every position of
// strings long enough to take the eight-byte path, and checks scanString
// against encoding/json: the word test must never skip a byte that ends,
// escapes or breaks a string.
func TestScanStringWordAtATime(t *testing.T) {
	for n := 1; n <= 27; n++ {
		for pos := 0; pos < n; pos++ {
			for c := 0; c < 256; c++ {
				body := make([]byte, n)
				for k := range body {
					body[k] = 'a' + byte(k%26)
				}
				body[pos] = byte(c)
				lit := append(append([]byte{'"'}, body...), '"')
				end, ok := scanString(lit, 0)
				want := json.Valid(lit)
				switch {
				case c == '"':
					want = true // a shorter string, checked below
				case c >= 0x80:
					// The scanner leaves UTF-8 to the caller; only the
					// string's extent matters here.
					want = true
				}
				if ok != want {
					t.Fatalf("%q: ok %v, encoding/json says %v", lit, ok, want)
				}
				if ok && c != '"' && end != len(lit) {
					t.Fatalf("%q: ended at %d, want %d", lit, end, len(lit))
				}
				if ok && c == '"' && end != pos+2 {
					t.Fatalf("%q: ended at %d, want the quote at %d", lit, end, pos+1)
				}
			}
		}
	}
}
