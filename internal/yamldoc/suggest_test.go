package yamldoc

import "testing"

func TestSuggest(t *testing.T) {
	names := []string{"http", "http_slow", "ws_open", "ws_send", "emit", "emit_ack", "clients"}
	for key, want := range map[string]string{
		"htp":     "http",
		"emitt":   "emit",
		"clents":  "clients",
		"ws_opn":  "ws_open",
		"ws_sen":  "ws_send",
		"colour":  "",
		"x":       "", // one edit from nothing useful: every short name would do
		"ws_xxxx": "",
	} {
		if got := Suggest(key, names); got != want {
			t.Errorf("Suggest(%q) = %q, want %q", key, got, want)
		}
	}
	// Two names equally near: no guess.
	if got := Suggest("ab", []string{"aa", "bb"}); got != "" {
		t.Errorf("tie: %q", got)
	}
}

func TestEditDistance(t *testing.T) {
	for _, c := range []struct {
		a, b string
		d    int
	}{{"", "", 0}, {"a", "", 1}, {"kitten", "sitting", 3}, {"emit", "emit_ack", 4}, {"htp", "http", 1}} {
		if got := editDistance(c.a, c.b); got != c.d {
			t.Errorf("editDistance(%q, %q) = %d, want %d", c.a, c.b, got, c.d)
		}
	}
}
