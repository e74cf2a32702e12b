package transport

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"fmt"
	"io"
	"strconv"

	"github.com/valyala/fasthttp"
)

// TooLargeError reports a polling body or WebSocket message over the
// receiving limit. The session that got it cannot go on: the rest of the
// message was not read.
type TooLargeError struct {
	// What is "polling body" or "websocket message".
	What string
	// Limit is the limit in bytes.
	Limit int64
	// Why tells where the limit comes from, e.g. "2x maxPayload 1000000".
	Why string
}

func (e *TooLargeError) Error() string {
	s := "transport: " + e.What + " over " + strconv.FormatInt(e.Limit, 10) + " bytes"
	if e.Why != "" {
		s += " (" + e.Why + ")"
	}
	return s
}

// maxPooledBody is the largest response body buffer handed back to
// fasthttp's pool: a buffer that once read a huge body must not stay
// pinned by the pool at its peak size.
const maxPooledBody = 64 << 10

// limitOf returns the receive limit and its explanation from opts.
func limitOf(o *Options) (int64, string) {
	if o.MaxMessageSize > 0 {
		why := o.LimitReason
		if why == "" {
			why = "max message size"
		}
		return o.MaxMessageSize, why
	}
	return DefaultMaxMessageSize, "default limit"
}

// uncompressed returns resp's body decoded per Content-Encoding, reading
// no more than limit+1 decoded bytes so that a small compressed body
// cannot expand without bound. tooLarge reports a body over limit.
func uncompressed(resp *fasthttp.Response, limit int64) (body []byte, tooLarge bool, err error) {
	raw := resp.Body()
	var r io.Reader
	switch string(bytes.TrimSpace(resp.Header.ContentEncoding())) {
	case "", "identity":
		return raw, int64(len(raw)) > limit, nil
	case "gzip":
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			return nil, false, err
		}
		r = zr
	case "deflate":
		zr, err := zlib.NewReader(bytes.NewReader(raw))
		if err != nil {
			return nil, false, err
		}
		r = zr
	default:
		// br and zstd: fasthttp decodes these whole; the decoded size is
		// checked afterwards. Servers do not compress without an
		// Accept-Encoding, which this client never sends.
		b, err := resp.BodyUncompressed()
		return b, int64(len(b)) > limit, err
	}
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, false, fmt.Errorf("%s: %w", resp.Header.ContentEncoding(), err)
	}
	return b, int64(len(b)) > limit, nil
}
