package redact

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestString(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"http://user:pw@127.0.0.1:3000", "http://***@127.0.0.1:3000"},
		{`Get "https://tok@host/socket.io/?EIO=4&transport=polling&token=abc123&sid=S1": EOF`,
			`Get "https://***@host/socket.io/?EIO=4&transport=polling&token=***&sid=S1": EOF`},
		{"ws://h/?access_token=xyz&t=1&X-Auth-Token=q&key=k&api_key=a&sig=s&design=d&password=p&session=s2",
			"ws://h/?access_token=***&t=1&X-Auth-Token=***&key=***&api_key=***&sig=***&design=d&password=***&session=***"},
		{"mail me at a@b.c, see http://host/x?monkey=1", "mail me at a@b.c, see http://host/x?monkey=1"},
		{"http://host/p?x=a@b", "http://host/p?x=a@b"},
		{`"target": "http://u:p@h:1"`, `"target": "http://***@h:1"`},
		{`"error": "Get \"http://h/?EIO=4\u0026token=abc\u0026t=1\""`, `"error": "Get \"http://h/?EIO=4\u0026token=***\u0026t=1\""`},
	} {
		if got := String(c.in); got != c.want {
			t.Errorf("String(%q)\n got %q\nwant %q", c.in, got, c.want)
		}
	}
}

func TestMaskerKeysAndLiterals(t *testing.T) {
	m := New()
	m.Key("room")
	m.Literal("Bearer s3cr3t-value")
	m.Literal(`a"quoted"secret`)
	m.Literal("ab") // too short: ignored
	in := `?room=r1&ab=ab header Bearer s3cr3t-value json "a\"quoted\"secret" raw a"quoted"secret`
	want := `?room=***&ab=ab header *** json "***" raw ***`
	if got := m.String(in); got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	var b bytes.Buffer
	m.Writer(&b).Write([]byte("http://x:y@h Bearer s3cr3t-value\n"))
	if b.String() != "http://***@h ***\n" {
		t.Errorf("writer wrote %q", b.String())
	}
	base := errors.New("dial http://u:p@h?token=t: refused")
	err := m.Error(base)
	if !errors.Is(err, base) || strings.Contains(err.Error(), "u:p") || !strings.Contains(err.Error(), "token=***") {
		t.Errorf("Error: %v", err)
	}
	if m.Error(nil) != nil {
		t.Error("Error(nil) != nil")
	}
}

func TestIsSecretKey(t *testing.T) {
	for k, want := range map[string]bool{
		"token": true, "Authorization": true, "Cookie": true, "jwt": true, "access_token": true, "signature": true,
		"secret": true, "session": true, "key": true, "sig": true, "x-api-key": true,
		"EIO": false, "transport": false, "sid": false, "t": false, "room": false, "monkey": false, "design": false,
	} {
		if got := IsSecretKey(k); got != want {
			t.Errorf("IsSecretKey(%q) = %v, want %v", k, got, want)
		}
	}
}
