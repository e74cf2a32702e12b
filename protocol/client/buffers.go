package client

import "sync"

// Read and write scratch buffers are pooled rather than kept per
// connection: an idle connection then holds none, which is what makes
// thousands of idle clients cheap.
var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// maxPooled keeps one huge message from pinning a huge buffer forever.
const maxPooled = 64 << 10

func getBuf() *[]byte {
	b := bufPool.Get().(*[]byte)
	*b = (*b)[:0]
	return b
}

// putBuf returns buf to the pool; used is what the buffer grew into, which
// may be a reallocation of *buf.
func putBuf(buf *[]byte, used []byte) {
	if cap(used) > maxPooled {
		return
	}
	*buf = used[:0]
	bufPool.Put(buf)
}
