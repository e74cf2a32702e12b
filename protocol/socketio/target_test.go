package socketio

import (
	"errors"
	"testing"
)

// TestParseTarget: the edge cases a user's --target or --url hits, and
// what each part of the Target says about them.
func TestParseTarget(t *testing.T) {
	for _, tc := range []struct {
		raw                   string
		origin, nsp, hostPort string
		query                 string // RawQuery, kept as written
		secure                bool
		user                  string // User.String(), "" without userinfo
	}{
		{"http://127.0.0.1:3000", "http://127.0.0.1:3000", "/", "127.0.0.1:3000", "", false, ""},
		{"http://127.0.0.1:3000/", "http://127.0.0.1:3000", "/", "127.0.0.1:3000", "", false, ""},
		{"http://h/admin", "http://h", "/admin", "h:80", "", false, ""},
		{"http://h/admin/", "http://h", "/admin/", "h:80", "", false, ""},
		{"ws://h:81", "http://h:81", "/", "h:81", "", false, ""},
		{"wss://h", "https://h", "/", "h:443", "", true, ""},
		{"https://h", "https://h", "/", "h:443", "", true, ""},
		{"HTTP://H:1", "http://H:1", "/", "H:1", "", false, ""},
		{"http://[::1]", "http://[::1]", "/", "[::1]:80", "", false, ""},
		{"http://[::1]:9/", "http://[::1]:9", "/", "[::1]:9", "", false, ""},
		{"http://u:p@h:1/x?b=2&a=1", "http://h:1", "/x", "h:1", "b=2&a=1", false, "u:p"},
		{"http://h?token=t&EIO=3", "http://h", "/", "h:80", "token=t&EIO=3", false, ""},
	} {
		got, err := ParseTarget(tc.raw)
		if err != nil {
			t.Errorf("%q: %v", tc.raw, err)
			continue
		}
		user := ""
		if got.User != nil {
			user = got.User.String()
		}
		if o := got.Origin().String(); o != tc.origin || got.Namespace() != tc.nsp || got.HostPort() != tc.hostPort ||
			got.RawQuery != tc.query || got.Secure() != tc.secure || user != tc.user {
			t.Errorf("%q: origin %q nsp %q hostport %q query %q secure %v user %q, want %q %q %q %q %v %q", tc.raw,
				o, got.Namespace(), got.HostPort(), got.RawQuery, got.Secure(), user,
				tc.origin, tc.nsp, tc.hostPort, tc.query, tc.secure, tc.user)
		}
	}
	if got, _ := ParseTarget("ws://h/?a=1&a=2"); len(got.Query["a"]) != 2 || got.WSScheme() != "ws" || got.HTTPScheme() != "http" {
		t.Errorf("ws://h/?a=1&a=2: query %v, schemes %s %s", got.Query, got.WSScheme(), got.HTTPScheme())
	}
	for _, raw := range []string{"", "127.0.0.1:3000", "localhost:3000", "ftp://h", "http://", "http:///x", "http://h:1\x7f", "/socket.io/"} {
		if _, err := ParseTarget(raw); !errors.Is(err, ErrTargetURL) {
			t.Errorf("%q: err %v, want ErrTargetURL", raw, err)
		}
	}
}

func TestEnginePath(t *testing.T) {
	for in, want := range map[string]string{"": "/socket.io/", "/": "/", "socket": "/socket/", "/socket": "/socket/", "/a/b/": "/a/b/"} {
		if got := EnginePath(in); got != want {
			t.Errorf("EnginePath(%q) = %q, want %q", in, got, want)
		}
	}
}
