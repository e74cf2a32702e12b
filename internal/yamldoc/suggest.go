package yamldoc

// Suggest returns the one of names within two edits of key (a typo:
// htp, emitt, clents), or "" when none or several are. The name is
// for a "did you mean" in an unknown-key error; a longer distance would
// guess at intent and send the user after the wrong key.
func Suggest(key string, names []string) string {
	best, bestDist, ties := "", 3, 0
	for _, n := range names {
		dist := editDistance(key, n)
		switch {
		case dist < bestDist:
			best, bestDist, ties = n, dist, 0
		case dist == bestDist:
			ties++
		}
	}
	if best == "" || ties > 0 || bestDist >= len(key) {
		return ""
	}
	return best
}

// editDistance is the Levenshtein distance of a and b, in bytes: keys are
// ASCII.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
