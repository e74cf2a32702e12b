package metrics

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"encoding/binary"
	"math"
)

// HdrHistogram's V2 cookies (hdrhistogram-go's V2EncodingCookieBase and
// V2CompressedEncodingCookieBase, each or'ed with 0x10 as its encoder
// writes them), and the size of the header before the counts.
const (
	v2Cookie           = 0x1c849303 | 0x10
	v2CompressedCookie = 0x1c849304 | 0x10
	v2HeaderSize       = 40
)

// v2Encoder writes HdrHistogram's V2 compressed encoding straight from a
// counts array, byte for byte what hdrhistogram-go's Encode writes for a
// histogram holding those counts (encode_test.go holds it to that). The
// timeline closes one interval histogram per latency per tick: building a
// Histogram from the difference (~190 KB of counts at this geometry),
// scanning it for its maximum and then for its payload, and a new zlib
// writer (~1 MB of compressor state) every time were most of a tick's
// cost. An encoder is not safe for concurrent use; it keeps its buffers
// from one encoding to the next.
type v2Encoder struct {
	inner bytes.Buffer // header and payload, before compression
	zbuf  bytes.Buffer
	z     *zlib.Writer
}

// encode encodes counts, indexed as a Histogram of the given geometry
// indexes its counts, with the conversion ratio 1 that histograms made
// by New (and the timeline's differences) carry.
func (e *v2Encoder) encode(counts []int64, lowest, highest int64, sigfigs int32) Blob {
	// The payload runs to the last non-zero count (hdrhistogram-go
	// stops at the index of Max(), which is that one), and at least one
	// count long.
	limit := len(counts)
	for limit > 1 && counts[limit-1] == 0 {
		limit--
	}
	limit = max(limit, 1)
	e.inner.Reset()
	var head [v2HeaderSize]byte
	e.inner.Write(head[:]) // filled in once the payload's length is known
	var vb [binary.MaxVarintLen64]byte
	for i := 0; i < limit; {
		c := counts[i]
		i++
		if c == 0 {
			zeros := int64(1)
			for i < limit && counts[i] == 0 {
				zeros++
				i++
			}
			if zeros > 1 {
				// A run of zeros is written as its negated length; a
				// lone zero as the count 0.
				c = -zeros
			}
		}
		e.inner.Write(vb[:putZigZag(vb[:], c)])
	}
	b := e.inner.Bytes()
	binary.BigEndian.PutUint32(b[0:], v2Cookie)
	binary.BigEndian.PutUint32(b[4:], uint32(len(b)-v2HeaderSize))
	binary.BigEndian.PutUint32(b[8:], 0) // normalizing index offset: counts are stored unrotated
	binary.BigEndian.PutUint32(b[12:], uint32(sigfigs))
	binary.BigEndian.PutUint64(b[16:], uint64(lowest))
	binary.BigEndian.PutUint64(b[24:], uint64(highest))
	binary.BigEndian.PutUint64(b[32:], math.Float64bits(1))

	e.zbuf.Reset()
	var outer [8]byte
	e.zbuf.Write(outer[:])
	if e.z == nil {
		// BestCompression is a valid level: no error.
		e.z, _ = zlib.NewWriterLevel(&e.zbuf, zlib.BestCompression)
	} else {
		e.z.Reset(&e.zbuf)
	}
	// Writing to a bytes.Buffer cannot fail.
	_, _ = e.z.Write(b)
	_ = e.z.Close()
	raw := e.zbuf.Bytes()
	binary.BigEndian.PutUint32(raw[0:], v2CompressedCookie)
	binary.BigEndian.PutUint32(raw[4:], uint32(len(raw)-8))
	out := make(Blob, base64.StdEncoding.EncodedLen(len(raw)))
	base64.StdEncoding.Encode(out, raw)
	return out
}

// putZigZag writes v as HdrHistogram's ZigZag LEB128-64b9B: LEB128 of the
// zigzagged value, except that a ninth byte carries a whole 8 bits (so
// 9 bytes suffice). It returns the bytes written.
func putZigZag(b []byte, v int64) int {
	u := uint64(v<<1) ^ uint64(v>>63)
	n := 0
	for ; n < 8 && u>>7 != 0; n++ {
		b[n] = byte(u) | 0x80
		u >>= 7
	}
	b[n] = byte(u)
	return n + 1
}
