package http1

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httputil"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
)

// headSeeds are the corpus shared by the head fuzz targets.
func headSeeds() []string {
	seeds := []string{
		"",
		"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\nContent-Length: 05\r\n\r\n",
		"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n",
		"HTTP/1.1 200 OK\r\nPragma: no-cache\r\nConnection: close\r\nTrailer: Content-Length\r\nTransfer-Encoding: chunked\r\n\r\n",
		"HTTP/1.1 200 OK\r\nA: b\r\n \r\n c \r\n\r\n",
		"HTTP/1.1 099 OK\r\nFoo Bar: x\r\n\r\n",
		"HTTP/2.0 200 OK\r\n\r\n",
	}
	for _, tc := range validHeads {
		seeds = append(seeds, tc.in)
	}
	for _, tc := range malformedHeads {
		seeds = append(seeds, tc.in)
	}
	// Large seeds (the limit cases, covered by the unit tests) make the fuzzer spend its time
	// minimizing their mutants.
	return slices.DeleteFunc(seeds, func(s string) bool { return len(s) > 512 })
}

// headResult is everything observable about one ReadResponseHead call.
type headResult struct {
	Head   Head
	N      int64
	Err    string // "" on success
	Offset int64  // of a *ParseError
}

func runHead(br *bufio.Reader, lim Limits) headResult {
	var h Head
	n, err := ReadResponseHead(br, lim, &h, nil)
	r := headResult{N: n}
	if err == nil {
		r.Head = h
		return r
	}
	r.Err = err.Error()
	var pe *ParseError
	if errors.As(err, &pe) {
		r.Offset, r.Err = pe.Offset, "parse: "+pe.Reason
	}
	return r
}

// checkHeadInvariants checks what every accepted head must satisfy.
func checkHeadInvariants(t *testing.T, data []byte, r headResult) {
	t.Helper()
	h := r.Head
	if r.N > int64(len(data)) {
		t.Fatalf("consumed %d of %d bytes", r.N, len(data))
	}
	if r.Err != "" {
		if !strings.HasPrefix(r.Err, "parse: ") && r.Err != ErrHeadTruncated.Error() && !(r.Err == io.EOF.Error() && len(data) == 0) {
			t.Fatalf("unexpected error %q", r.Err)
		}
		if r.Offset < 0 || r.Offset > int64(len(data)) {
			t.Fatalf("ParseError offset %d outside the %d-byte input", r.Offset, len(data))
		}
		return
	}
	if h.Status < 100 || h.Status > 999 || (h.Status < 200 && h.Status != 101) {
		t.Fatalf("status %d returned", h.Status)
	}
	if h.Minor < 0 || h.Minor > 9 {
		t.Fatalf("minor version %d", h.Minor)
	}
	status, fields, ok := strings.Cut(h.Raw, "\n")
	if !ok || fields != h.Fields || !strings.HasSuffix(status, h.Reason) {
		t.Fatalf("Raw %q does not hold the status line, Reason %q and Fields %q", h.Raw, h.Reason, h.Fields)
	}
	checkFieldBlock(t, h.Fields)
	if h.ContentLength < -1 || (h.Chunked && h.ContentLength != -1) {
		t.Fatalf("ContentLength %d with Chunked %v", h.ContentLength, h.Chunked)
	}
	kind, length := h.Body("GET")
	switch kind {
	case NoBody:
		assert.True(t, length == 0, "NoBody length %d", length)
	case LengthBody:
		assert.True(t, length > 0 && length == h.ContentLength, "LengthBody length %d", length)
	case ChunkedBody:
		assert.True(t, h.Chunked && length == -1, "ChunkedBody")
	case CloseBody:
		assert.True(t, h.Close && length == -1, "CloseBody")
	}
}

// checkFieldBlock checks a normalized field block: "name: value\n" lines with token names and
// trimmed values free of CTLs.
func checkFieldBlock(t *testing.T, block string) {
	t.Helper()
	if block != "" && !strings.HasSuffix(block, "\n") {
		t.Fatalf("field block %q does not end with a newline", block)
	}
	for line := range strings.SplitSeq(strings.TrimSuffix(block, "\n"), "\n") {
		if block == "" {
			break
		}
		name, value, ok := strings.Cut(line, ": ")
		if !ok || name == "" {
			t.Fatalf("malformed field line %q", line)
		}
		for i := 0; i < len(name); i++ {
			if !isTokenByte(name[i]) {
				t.Fatalf("field name %q has byte %#x", name, name[i])
			}
		}
		if badValueByte([]byte(value)) >= 0 || value != string(trimOWS([]byte(value))) {
			t.Fatalf("field value %q is not trimmed and clean", value)
		}
	}
	n := 0
	Fields(block, func(string, string) bool { n++; return true })
	assert.True(t, n == strings.Count(block, "\n"), "Fields visits every line")
}

// FuzzReadResponseHead must never panic, must satisfy the head invariants, and must give the same
// result however the bytes are buffered.
func FuzzReadResponseHead(f *testing.F) {
	for _, s := range headSeeds() {
		f.Add([]byte(s))
	}
	small := Limits{MaxLineSize: 32, MaxFieldSize: 24, MaxHeaders: 4}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, lim := range []Limits{{}, small} {
			whole := runHead(bufio.NewReader(bytes.NewReader(data)), lim)
			checkHeadInvariants(t, data, whole)
			pieces := runHead(bufio.NewReaderSize(iotest.OneByteReader(bytes.NewReader(data)), 16), lim)
			if whole.Err != "" {
				// After an error the connection is unusable: how far it was read does not matter.
				whole.N, pieces.N = 0, 0
			}
			if !reflect.DeepEqual(whole, pieces) {
				t.Fatalf("result depends on buffering:\nwhole:  %+v\npieces: %+v", whole, pieces)
			}
		}
	})
}

type chunkedResult struct {
	Data, Trailer, Err string
	Done               bool
	N                  int64
}

func runChunked(t *testing.T, br *bufio.Reader, size int, lim Limits) chunkedResult {
	b := newBody(br, ChunkedBody, -1, lim)
	// Unlike drain, keep nothing per Read: mutated inputs can be megabytes read a byte at a time.
	buf := make([]byte, size)
	var data []byte
	var err error
	for err == nil {
		var n int
		n, err = b.Read(buf)
		data = append(data, buf[:n]...)
	}
	if n, err2 := b.Read(buf); n != 0 || err2 != err {
		t.Fatalf("error not sticky: after %v, Read returned %d, %v", err, n, err2)
	}
	r := chunkedResult{Data: string(data), Trailer: b.Trailer(), Done: b.Done(), N: b.N()}
	if err != io.EOF {
		r.Err = err.Error()
	}
	return r
}

// FuzzChunkedBody must never panic, must end every body in io.EOF, ErrBodyTruncated or a
// *ParseError, must not depend on buffering, and must agree with net/http's chunked reader on the
// data when both accept.
func FuzzChunkedBody(f *testing.F) {
	for _, tc := range validChunked {
		f.Add([]byte(tc.in), uint8(7))
	}
	for _, tc := range malformedChunked {
		if len(tc.in) <= 512 {
			f.Add([]byte(tc.in), uint8(64))
		}
	}
	f.Add([]byte(floodChunks(3, 100)), uint8(1))
	small := Limits{MaxLineSize: 16, MaxFieldSize: 16, MaxHeaders: 2}
	f.Fuzz(func(t *testing.T, data []byte, size uint8) {
		rsize := int(size)%64 + 1
		for _, lim := range []Limits{{}, small} {
			whole := runChunked(t, bufio.NewReader(bytes.NewReader(data)), rsize, lim)
			pieces := runChunked(t, bufio.NewReaderSize(iotest.OneByteReader(bytes.NewReader(data)), 16), 4096, lim)
			if !reflect.DeepEqual(whole, pieces) {
				t.Fatalf("result depends on buffering:\nwhole:  %+v\npieces: %+v", whole, pieces)
			}
			assert.True(t, whole.N == int64(len(whole.Data)), "N")
			assert.True(t, whole.Done == (whole.Err == ""), "Done iff io.EOF")
			if whole.Err != "" && !strings.Contains(whole.Err, "(at byte ") && whole.Err != ErrBodyTruncated.Error() {
				t.Fatalf("unexpected error %q", whole.Err)
			}
			checkFieldBlock(t, whole.Trailer)
			if whole.Err == "" {
				goData, err := io.ReadAll(httputil.NewChunkedReader(bytes.NewReader(data)))
				if err == nil && string(goData) != whole.Data {
					t.Fatalf("net/http reads %q, we read %q", goData, whole.Data)
				}
			}
		}
	})
}

// lexedHead is a rough split of a response head into lines, independent of the parser under
// test, that the policy predicates below look at.
type lexedHead struct {
	status string
	fields []lexedField
	folded bool // some field has an obs-fold
}

type lexedField struct {
	name, value string // value: first line and folds joined by a space, trimmed
	size        int    // wire bytes of the field, folds included
}

func lexHead(data []byte) *lexedHead {
	l := &lexedHead{}
	first := true
	for len(data) > 0 {
		line, rest, _ := bytes.Cut(data, []byte("\n"))
		data = rest
		line = bytes.TrimSuffix(line, []byte("\r"))
		switch {
		case first:
			l.status, first = string(line), false
		case len(line) == 0:
			return l
		case line[0] == ' ' || line[0] == '\t':
			l.folded = true
			if n := len(l.fields); n > 0 {
				f := &l.fields[n-1]
				f.value = strings.TrimSpace(f.value + " " + string(line))
				f.size += len(line)
			}
		default:
			name, value, _ := strings.Cut(string(line), ":")
			l.fields = append(l.fields, lexedField{name: name, value: strings.Trim(value, " \t"), size: len(line)})
		}
	}
	return l
}

func (l *lexedHead) values(name string) []string {
	var vs []string
	for _, f := range l.fields {
		if strings.EqualFold(f.name, name) {
			vs = append(vs, f.value)
		}
	}
	return vs
}

func (l *lexedHead) versionOK() bool {
	s := l.status
	return len(s) >= 9 && s[:7] == "HTTP/1." && isDigit(s[7]) && s[8] == ' '
}

func (l *lexedHead) codeOK() bool {
	s := l.status
	return len(s) >= 12 && '1' <= s[9] && s[9] <= '9' && isDigit(s[10]) && isDigit(s[11]) && (len(s) == 12 || s[12] == ' ')
}

// netHTTPStatus mimics ReadResponse's status-line parsing: the status code text, and whether
// net/http accepts the line.
func (l *lexedHead) netHTTPStatus() (code string, ok bool) {
	proto, status, ok := strings.Cut(l.status, " ")
	if !ok {
		return "", false
	}
	code, _, _ = strings.Cut(strings.TrimLeft(status, " "), " ")
	n, err := strconv.Atoi(code)
	if len(code) != 3 || err != nil || n < 0 {
		return code, false
	}
	_, _, ok = http.ParseHTTPVersion(proto)
	return code, ok
}

type policyEffect uint8

const (
	skipInput       policyEffect = iota // the parsers may disagree on anything: skip the input
	looseWhitespace                     // compare field values with whitespace runs collapsed
	ignoreClose                         // do not compare Close
)

// netHTTPPolicies lists every known, deliberate disagreement between ReadResponseHead (with
// [Head.Body]) and net/http's ReadResponse. FuzzHeadVsNetHTTP skips exactly these classes; any
// other disagreement is a failure.
var netHTTPPolicies = []struct {
	name   string
	policy string
	effect policyEffect
	match  func(l *lexedHead) bool
}{
	{
		name:   "http-version",
		policy: `we accept only "HTTP/1.d"; net/http also accepts any other "HTTP/d.d" (HTTP/0.9, HTTP/2.0)`,
		match: func(l *lexedHead) bool {
			_, goOK := l.netHTTPStatus()
			return goOK && !l.versionOK()
		},
	},
	{
		name: "status-code-grammar",
		policy: "we require exactly one SP then 3 digits, the first non-zero, then SP or the end; net/http " +
			`trims extra spaces and takes any 3 bytes strconv.Atoi accepts ("099", "000", "+12")`,
		match: func(l *lexedHead) bool {
			_, goOK := l.netHTTPStatus()
			return goOK && l.versionOK() && !l.codeOK()
		},
	},
	{
		name:   "reason-ctl",
		policy: "we refuse CTLs (NUL, bare CR, ESC, DEL...) in the reason phrase; net/http keeps them",
		match: func(l *lexedHead) bool {
			return len(l.status) > 12 && badValueByte([]byte(l.status[12:])) >= 0
		},
	},
	{
		name:   "informational",
		policy: "we skip 1xx heads other than 101 and return the final head; ReadResponse returns the 1xx head",
		match: func(l *lexedHead) bool {
			code, goOK := l.netHTTPStatus()
			return goOK && code[0] == '1' && code != "101"
		},
	},
	{
		name:   "limits",
		policy: "we refuse heads over Limits (8190-byte lines and fields, 128 fields); ReadResponse has no limit",
		match: func(l *lexedHead) bool {
			if len(l.status) > DefaultMaxLineSize-8 || len(l.fields) > DefaultMaxHeaders {
				return true
			}
			for _, f := range l.fields {
				if f.size > DefaultMaxFieldSize-8 {
					return true
				}
			}
			return false
		},
	},
	{
		name: "space-in-field-name",
		policy: "we refuse a field name holding SP, before the colon or inside (RFC 9112 §5.1); net/http " +
			"accepts it uncanonicalized (golang/go#34540)",
		match: func(l *lexedHead) bool {
			for _, f := range l.fields {
				if strings.Contains(f.name, " ") {
					return true
				}
			}
			return false
		},
	},
	{
		name:   "content-length-list",
		policy: `we accept a Content-Length list of equal values ("5, 5", RFC 9110 §8.6); net/http refuses it`,
		match: func(l *lexedHead) bool {
			for _, v := range l.values("Content-Length") {
				if strings.Contains(v, ",") {
					return true
				}
			}
			return false
		},
	},
	{
		name:   "content-length-spelling",
		policy: `we merge Content-Length fields equal as numbers ("5" and "05"); net/http requires equal text`,
		match: func(l *lexedHead) bool {
			vs := l.values("Content-Length")
			for _, v := range vs {
				if v != vs[0] {
					return true
				}
			}
			return false
		},
	},
	{
		name: "http10-transfer-encoding",
		policy: "on HTTP/1.0 we still require Transfer-Encoding to be chunked, read chunked and close the " +
			"connection (RFC 9112 §6.1); net/http ignores the field (golang/go#12785)",
		match: func(l *lexedHead) bool {
			return strings.HasPrefix(l.status, "HTTP/1.0") && l.values("Transfer-Encoding") != nil
		},
	},
	{
		name: "trailer-declaration",
		policy: "we ignore the Trailer field and refuse forbidden trailer fields when they arrive; net/http " +
			"refuses a chunked head whose Trailer field names Content-Length, Transfer-Encoding or Trailer",
		match: func(l *lexedHead) bool {
			for _, v := range l.values("Trailer") {
				for _, name := range strings.Split(v, ",") {
					switch http.CanonicalHeaderKey(strings.TrimSpace(name)) {
					case "Content-Length", "Transfer-Encoding", "Trailer":
						return true
					}
				}
			}
			return false
		},
	},
	{
		name: "obs-fold-whitespace",
		policy: "an obs-fold becomes one SP and a whitespace-only continuation line nothing; net/http adds a " +
			"SP per continuation line, so it can leave double or trailing spaces",
		effect: looseWhitespace,
		match:  func(l *lexedHead) bool { return l.folded },
	},
	{
		name:   "content-length-with-chunked-closes",
		policy: "with both Content-Length and chunked we close the connection after the response (RFC 9112 §6.3); net/http reuses it",
		effect: ignoreClose,
		match: func(l *lexedHead) bool {
			return l.values("Content-Length") != nil && l.values("Transfer-Encoding") != nil
		},
	},
}

// comparableHead is what both parsers report about a head.
type comparableHead struct {
	Status        int
	Minor         int
	Reason        string
	Header        http.Header
	ContentLength int64
	Chunked       bool
	Close         bool
}

// netHTTPDropped are the fields net/http consumes or rewrites while framing: they are compared
// through ContentLength, Chunked and Close instead.
var netHTTPDropped = []string{"Content-Length", "Transfer-Encoding", "Connection", "Trailer"}

func oursComparable(h *Head) comparableHead {
	kind, length := h.Body("GET")
	if kind == NoBody {
		length = 0
	}
	c := comparableHead{
		Status: h.Status, Minor: h.Minor, Reason: h.Reason, Header: http.Header{},
		ContentLength: length, Chunked: h.Chunked, Close: h.Close,
	}
	Fields(h.Fields, func(name, value string) bool {
		c.Header.Add(name, value)
		return true
	})
	// net/http's fixPragmaCacheControl.
	if p := c.Header["Pragma"]; len(p) > 0 && p[0] == "no-cache" && c.Header["Cache-Control"] == nil {
		c.Header["Cache-Control"] = []string{"no-cache"}
	}
	return c
}

func netHTTPComparable(resp *http.Response) comparableHead {
	_, reason, _ := strings.Cut(resp.Status, " ")
	return comparableHead{
		Status: resp.StatusCode, Minor: resp.ProtoMinor, Reason: reason, Header: resp.Header.Clone(),
		ContentLength: resp.ContentLength, Chunked: len(resp.TransferEncoding) > 0, Close: resp.Close,
	}
}

func collapseSpaces(h http.Header) {
	for k, vs := range h {
		for i, v := range vs {
			vs[i] = strings.Join(strings.Fields(v), " ")
		}
		h[k] = vs
	}
}

// FuzzHeadVsNetHTTP compares ReadResponseHead with net/http's ReadResponse: both must accept or
// refuse the same heads and, when both accept, report the same status, reason, header values,
// content length, chunking and connection reuse, except for the classes of netHTTPPolicies.
func FuzzHeadVsNetHTTP(f *testing.F) {
	for _, s := range headSeeds() {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		policies, skip := matchPolicies(data)
		if skip != "" {
			t.Skip(skip)
		}
		if diff := diffNetHTTP(data, policies); diff != "" {
			t.Fatalf("disagreement with net/http on %q:\n%s", data, diff)
		}
	})
}

// matchPolicies returns the effects of the policies data falls in, and the name of the first
// skipInput policy it matches.
func matchPolicies(data []byte) (effects map[policyEffect]bool, skip string) {
	l := lexHead(data)
	effects = map[policyEffect]bool{}
	for _, p := range netHTTPPolicies {
		if p.match(l) {
			if p.effect == skipInput && skip == "" {
				skip = p.name
			}
			effects[p.effect] = true
		}
	}
	return effects, skip
}

// diffNetHTTP parses data with ReadResponseHead and http.ReadResponse and describes how they
// disagree, or returns "".
func diffNetHTTP(data []byte, effects map[policyEffect]bool) string {
	var h Head
	_, ourErr := ReadResponseHead(bufio.NewReader(bytes.NewReader(data)), Limits{}, &h, nil)
	resp, goErr := http.ReadResponse(bufio.NewReader(bytes.NewReader(data)), nil)
	if (ourErr == nil) != (goErr == nil) {
		return fmt.Sprintf("ours:     %v\nnet/http: %v", ourErr, goErr)
	}
	if ourErr != nil {
		return ""
	}
	ours, theirs := oursComparable(&h), netHTTPComparable(resp)
	for _, k := range netHTTPDropped {
		delete(ours.Header, k)
		delete(theirs.Header, k)
	}
	if effects[looseWhitespace] {
		collapseSpaces(ours.Header)
		collapseSpaces(theirs.Header)
	}
	if effects[ignoreClose] {
		ours.Close, theirs.Close = false, false
	}
	if !reflect.DeepEqual(ours, theirs) {
		return fmt.Sprintf("ours:     %+v\nnet/http: %+v", ours, theirs)
	}
	return ""
}

// TestNetHTTPPolicies shows that each policy of netHTTPPolicies is a real disagreement: for an
// example input, the policy matches, and without any policy applied the parsers disagree.
func TestNetHTTPPolicies(t *testing.T) {
	examples := map[string]string{
		"http-version":                       "HTTP/2.0 200 OK\r\n\r\n",
		"status-code-grammar":                "HTTP/1.1 099 OK\r\n\r\n",
		"reason-ctl":                         "HTTP/1.1 200 O\x01K\r\n\r\n",
		"informational":                      "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n\r\n",
		"limits":                             "HTTP/1.1 200 OK\r\n" + manyFields(DefaultMaxHeaders+1) + "\r\n",
		"space-in-field-name":                "HTTP/1.1 200 OK\r\nFoo Bar: x\r\n\r\n",
		"content-length-list":                "HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\n",
		"content-length-spelling":            "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 05\r\n\r\n",
		"http10-transfer-encoding":           "HTTP/1.0 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
		"trailer-declaration":                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: content-length\r\n\r\n",
		"obs-fold-whitespace":                "HTTP/1.1 200 OK\r\nA: b\r\n \r\n c\r\n\r\n",
		"content-length-with-chunked-closes": "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
	}
	assert.Equal(t, len(netHTTPPolicies), len(examples), "one example per policy")
	for _, p := range netHTTPPolicies {
		in, ok := examples[p.name]
		if !ok {
			t.Errorf("policy %s has no example", p.name)
			continue
		}
		assert.True(t, p.match(lexHead([]byte(in))), "policy %s matches its example", p.name)
		assert.True(t, diffNetHTTP([]byte(in), nil) != "", "policy %s: the parsers disagree on %q", p.name, in)
		_, skip := matchPolicies([]byte(in))
		if p.effect != skipInput {
			assert.Equal(t, "", skip, "policy %s: its example is compared, not skipped", p.name)
			assert.Equal(t, "", diffNetHTTP([]byte(in), map[policyEffect]bool{p.effect: true}), "policy %s applied", p.name)
		}
	}
}
