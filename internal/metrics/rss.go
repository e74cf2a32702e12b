package metrics

import (
	"os"
	"strconv"
	"strings"
)

// ProcessRSS returns this process's resident set size from /proc (Linux;
// 0 elsewhere): the generator's health samples it, and the tests that hold
// sioload and sioconform to a memory ceiling measure with it.
func ProcessRSS() uint64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, err := strconv.ParseUint(f[1], 10, 64)
	if err != nil {
		return 0
	}
	return pages * uint64(os.Getpagesize())
}
