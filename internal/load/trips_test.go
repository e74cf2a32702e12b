package load

import "testing"

func TestTripLog(t *testing.T) {
	var l tripLog
	for s := int64(1); s <= 5000; s++ {
		l.sent(s)
		if s != 77 {
			l.received(s)
		}
	}
	l.received(4990) // duplicate inside the window
	l.received(6000) // early: its send is recorded after
	l.sent(6000)
	l.received(6000) // duplicate of the early one
	l.received(10)   // too old to tell
	if l.lost() != 1 || l.dup != 2 {
		t.Fatalf("lost %d dup %d, want 1 and 2", l.lost(), l.dup)
	}
	if len(l.out) != 1 {
		t.Fatalf("%d messages tracked after 5000 round trips, want only the lost one", len(l.out))
	}
}
