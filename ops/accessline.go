package ops

import (
	"strconv"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"
)

// The access line of a busy proxy is written once per request, so the
// process logger (NewLogger) formats it by hand, without slog's records,
// attributes and handler state: the same bytes as slog's TextHandler or
// JSONHandler would write for the same record (accessline_test.go compares
// the two), in one pooled buffer, with no allocation.

// accessFields are the values of one access line, in the order of the line.
type accessFields struct {
	requestID, host, method, path, app, user, decision string
	status                                             int
	duration                                           time.Duration
}

// lineBuffers holds the buffers access lines are formatted in.
var lineBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// appendAccessLine appends the access line of f logged at time t, as
// slog's JSONHandler (json) or TextHandler writes the record "access" at
// level INFO with f's attributes.
func appendAccessLine(b []byte, t time.Time, f *accessFields, json bool) []byte {
	t = t.Round(0) // as slog: no monotonic reading
	if json {
		b = append(b, `{"time":"`...)
		b = t.AppendFormat(b, time.RFC3339Nano)
		b = append(b, `","level":"INFO","msg":"access","request_id":`...)
		b = appendJSONString(b, f.requestID)
		b = append(b, `,"host":`...)
		b = appendJSONString(b, f.host)
		b = append(b, `,"method":`...)
		b = appendJSONString(b, f.method)
		b = append(b, `,"path":`...)
		b = appendJSONString(b, f.path)
		b = append(b, `,"app":`...)
		b = appendJSONString(b, f.app)
		b = append(b, `,"user":`...)
		b = appendJSONString(b, f.user)
		b = append(b, `,"decision":`...)
		b = appendJSONString(b, f.decision)
		b = append(b, `,"status":`...)
		b = strconv.AppendInt(b, int64(f.status), 10)
		b = append(b, `,"duration":`...)
		b = strconv.AppendInt(b, int64(f.duration), 10)
		return append(b, "}\n"...)
	}
	b = append(b, "time="...)
	b = appendRFC3339Millis(b, t)
	b = append(b, " level=INFO msg=access request_id="...)
	b = appendTextString(b, f.requestID)
	b = append(b, " host="...)
	b = appendTextString(b, f.host)
	b = append(b, " method="...)
	b = appendTextString(b, f.method)
	b = append(b, " path="...)
	b = appendTextString(b, f.path)
	b = append(b, " app="...)
	b = appendTextString(b, f.app)
	b = append(b, " user="...)
	b = appendTextString(b, f.user)
	b = append(b, " decision="...)
	b = appendTextString(b, f.decision)
	b = append(b, " status="...)
	b = strconv.AppendInt(b, int64(f.status), 10)
	b = append(b, " duration="...)
	b = appendDuration(b, f.duration)
	return append(b, '\n')
}

// appendRFC3339Millis is slog's text time: RFC 3339 with exactly three
// fractional digits.
func appendRFC3339Millis(b []byte, t time.Time) []byte {
	// RFC3339Nano trims trailing zeros, so add 1/10 ms to keep four
	// digits and drop the fourth (as slog does).
	const prefixLen = len("2006-01-02T15:04:05.000")
	n := len(b)
	t = t.Truncate(time.Millisecond).Add(time.Millisecond / 10)
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b[:n+prefixLen], b[n+prefixLen+1:]...)
}

// appendDuration appends d as d.String() does.
func appendDuration(b []byte, d time.Duration) []byte {
	return append(b, d.String()...) // inlined: the string stays on the stack
}

// appendTextString appends s as slog's TextHandler writes a string value:
// as is, or quoted when it is empty or holds a space, '=', '"', a control
// or non-printing character or invalid UTF-8.
func appendTextString(b []byte, s string) []byte {
	if textNeedsQuoting(s) {
		return strconv.AppendQuote(b, s)
	}
	return append(b, s...)
}

// textNeedsQuoting is slog's needsQuoting.
func textNeedsQuoting(s string) bool {
	if len(s) == 0 {
		return true
	}
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c != '\\' && (c == ' ' || c == '=' || !jsonSafe[c]) {
				return true
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError || unicode.IsSpace(r) || !unicode.IsPrint(r) {
			return true
		}
		i += size
	}
	return false
}

// appendJSONString appends s quoted as slog's JSONHandler writes a string:
// '"' and '\\' escaped, control characters as \n, \r, \t or \u00XX,
// invalid UTF-8 as \ufffd, U+2028 and U+2029 escaped; HTML characters are
// left as they are.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if jsonSafe[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			b = append(b, '\\')
			switch c {
			case '\\', '"':
				b = append(b, c)
			case '\n':
				b = append(b, 'n')
			case '\r':
				b = append(b, 'r')
			case '\t':
				b = append(b, 't')
			default:
				b = append(b, 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// jsonSafe tells which ASCII bytes a JSON string holds unescaped: all but
// the control characters, '"' and '\\' (slog's and encoding/json's safeSet).
var jsonSafe = func() (t [utf8.RuneSelf]bool) {
	for c := ' '; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()
