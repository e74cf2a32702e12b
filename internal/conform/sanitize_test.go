package conform

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/siokit/siokit/internal/testpeer"
)

// TestSanitizeMasksSecrets: what a case sent as a credential is masked
// wherever it shows, the server's echo included; sid is no secret; URL
// userinfo goes even with show.
func TestSanitizeMasksSecrets(t *testing.T) {
	r := &runner{secrets: map[string]bool{}}
	r.noteSecrets("GET /socket.io/?EIO=4&transport=polling&sid=abcSID&access_token=tok-123&x=1", nil)
	r.noteSecrets(`40/admin,{"token":"s3cr3t-v","nested":{"pw":"hunter22"}}`, nil)
	r.noteSecrets("40/v4?token=qs-tok,", nil)
	r.noteSecrets("", http.Header{"Authorization": {"Bearer bearer-xyz"}, "Cookie": {"io=abc; session=cookie-val"}})
	base := Result{
		Message: `want "x", got "42[\"auth\",{\"token\":\"s3cr3t-v\"}]" from http://user:pw@host/`,
		Diff:    "expected: tok-123\n     got: hunter22 bearer-xyz cookie-val",
		Trace: []TraceEntry{
			{Summary: "GET /socket.io/?EIO=4&transport=polling&sid=abcSID&access_token=tok-123&x=1"},
			{Summary: `text 40/admin,{"token":"s3cr3t-v","nested":{"pw":"hunter22"}}`},
			{Summary: "text 40/v4?token=qs-tok,"},
			{Summary: "text " + shorten(strings.Repeat("a", 75)+"s3cr3t-v")},
		},
	}
	res := base
	res.Trace = append([]TraceEntry(nil), base.Trace...)
	sanitize(&res, r.secrets, false)
	all := res.Message + res.Diff
	for _, e := range res.Trace {
		all += "\n" + e.Summary
	}
	for _, s := range []string{"s3cr3t", "tok-123", "hunter22", "qs-tok", "bearer-xyz", "cookie-val", "user:pw", "s3c…"} {
		if strings.Contains(all, s) {
			t.Errorf("%q not masked in:\n%s", s, all)
		}
	}
	for _, s := range []string{"sid=abcSID", "access_token=***", `"token":"***"`, "x=1"} {
		if !strings.Contains(all, s) {
			t.Errorf("want %q in:\n%s", s, all)
		}
	}

	shown := base
	shown.Trace = append([]TraceEntry(nil), base.Trace...)
	sanitize(&shown, r.secrets, true)
	if !strings.Contains(shown.Message, "s3cr3t-v") || !strings.Contains(shown.Trace[0].Summary, "tok-123") {
		t.Errorf("show: secrets masked anyway: %s / %s", shown.Message, shown.Trace[0].Summary)
	}
	if strings.Contains(shown.Message, "user:pw") {
		t.Errorf("show: userinfo shown: %s", shown.Message)
	}
}

// TestReportMasksAdminToken runs the admin cases against the reference:
// the token "secret" they send (and the server echoes in its auth event)
// is masked unless ShowSecrets.
func TestReportMasksAdminToken(t *testing.T) {
	cases, err := LoadBuiltin()
	if err != nil {
		t.Fatal(err)
	}
	sel := Select(cases, 4, []string{"sio5.middleware", "sio5.binary.custom-namespace"}, nil)
	peer := testpeer.Start(t, "node4-contract")
	for _, show := range []bool{false, true} {
		rep, err := Run(context.Background(), sel, Config{URL: peer.URL, EIO: 4, ShowSecrets: show})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, res := range rep.Results {
			for _, e := range res.Trace {
				if strings.Contains(e.Summary, `"token":"secret"`) {
					n++
				}
			}
		}
		if show && n == 0 || !show && n > 0 {
			t.Errorf("ShowSecrets %v: the token shows in %d trace entries of %d cases", show, n, len(rep.Results))
		}
	}
}
