package workers

import (
	"context"
	"strings"
	"testing"
)

// TestServePortInUse: a port another server holds, even one that would
// let a worker join it through SO_REUSEPORT (an earlier sioload serve),
// is refused before any worker starts.
func TestServePortInUse(t *testing.T) {
	ln, err := ListenReusePort("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	// Exe would fail if started: the refusal must come first.
	err = Serve(context.Background(), ServeOptions{Workers: 2, Addr: ln.Addr().String(), Exe: "/nonexistent/sioload"})
	if err == nil || !strings.Contains(err.Error(), ln.Addr().String()+" is in use") {
		t.Fatalf("err = %v, want the port refused as in use", err)
	}
	// The proof that the refusal matters: a worker's listen would join.
	joined, err := ListenReusePort(ln.Addr().String())
	if err != nil {
		t.Fatalf("SO_REUSEPORT did not join: %v (the probe guards nothing here)", err)
	}
	joined.Close()
}
