package aiohttp_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/aiohttp-go/aiohttp"
	"github.com/mccutchen/go-httpbin/v2/httpbin"
	"github.com/stretchr/testify/require"
)

// hbStart serves an in-process go-httpbin and returns a session whose BaseURL points at it.
func hbStart(t *testing.T) (*aiohttp.Session, string) {
	t.Helper()
	srv := rqServer(t, httpbin.New())
	return rqSession(t, aiohttp.Config{BaseURL: srv.URL + "/"}), srv.URL
}

// hbEcho is the part of go-httpbin's request echo the tests read.
type hbEcho struct {
	Args     map[string][]string `json:"args"`
	Headers  http.Header         `json:"headers"`
	Method   string              `json:"method"`
	URL      string              `json:"url"`
	JSON     any                 `json:"json"`
	Data     string              `json:"data"`
	Gzipped  bool                `json:"gzipped"`
	Deflated bool                `json:"deflated"`
	ID       *int                `json:"id"`
}

func hbJSON(t *testing.T, resp *aiohttp.Response) hbEcho {
	t.Helper()
	var e hbEcho
	require.NoError(t, resp.JSON(&e))
	return e
}

func TestHTTPBin(t *testing.T) {
	s, base := hbStart(t)
	ctx := context.Background()

	t.Run("get with params", func(t *testing.T) {
		resp, err := s.Get(ctx, "get?own=1", aiohttp.Params{"a": {"1", "2"}, "b": {"x y"}})
		require.NoError(t, err)
		defer resp.Close()
		require.Equal(t, 200, resp.Status)
		e := hbJSON(t, resp)
		require.Equal(t, map[string][]string{"own": {"1"}, "a": {"1", "2"}, "b": {"x y"}}, e.Args)
		require.Equal(t, "GET", e.Method)
	})

	t.Run("post JSON echo", func(t *testing.T) {
		in := map[string]any{"name": "aiohttp", "n": 3.0, "list": []any{"a", true, nil}}
		resp, err := s.Post(ctx, "post", aiohttp.JSON(in))
		require.NoError(t, err)
		defer resp.Close()
		e := hbJSON(t, resp)
		require.Equal(t, "POST", e.Method)
		require.Equal(t, any(in), e.JSON)
		require.Equal(t, "application/json", e.Headers.Get("Content-Type"))
	})

	t.Run("status 418", func(t *testing.T) {
		resp, err := s.Get(ctx, "status/418")
		require.NoError(t, err)
		defer resp.Close()
		require.Equal(t, 418, resp.Status)
		require.False(t, resp.OK())
		var re *aiohttp.ResponseError
		require.ErrorAs(t, resp.RaiseForStatus(), &re)
		require.Equal(t, 418, re.Status)
	})

	t.Run("status 418 raised", func(t *testing.T) {
		resp, err := s.Get(ctx, "status/418", aiohttp.RaiseForStatus(true))
		require.Nil(t, resp)
		var re *aiohttp.ResponseError
		require.ErrorAs(t, err, &re)
		require.Equal(t, 418, re.Status)
	})

	t.Run("relative redirect 3", func(t *testing.T) {
		resp, err := s.Get(ctx, "redirect/3")
		require.NoError(t, err)
		defer resp.Close()
		require.Equal(t, 200, resp.Status)
		require.Equal(t, base+"/get", resp.URL().String())
		h := resp.History()
		require.Len(t, h, 3)
		for i, want := range []string{"/redirect/3", "/relative-redirect/2", "/relative-redirect/1"} {
			require.Equal(t, 302, h[i].Status)
			require.Equal(t, want, h[i].URL().Path)
		}
		e := hbJSON(t, resp)
		require.Equal(t, "GET", e.Method)
	})

	t.Run("absolute redirect 2", func(t *testing.T) {
		resp, err := s.Get(ctx, "absolute-redirect/2")
		require.NoError(t, err)
		defer resp.Close()
		require.Equal(t, 200, resp.Status)
		require.Equal(t, base+"/get", resp.URL().String())
		require.Len(t, resp.History(), 2)
		require.Equal(t, "/absolute-redirect/2", resp.History()[0].URL().Path)
		require.Equal(t, "/absolute-redirect/1", resp.History()[1].URL().Path)
	})

	for _, enc := range []string{"gzip", "deflate"} {
		t.Run(enc+" decoded", func(t *testing.T) {
			resp, err := s.Get(ctx, enc)
			require.NoError(t, err)
			defer resp.Close()
			require.Equal(t, 200, resp.Status)
			require.Equal(t, int64(-1), resp.ContentLength)
			require.Empty(t, resp.Header().Get("Content-Encoding"))
			require.Empty(t, resp.Header().Get("Content-Length"))
			e := hbJSON(t, resp)
			require.Equal(t, enc == "gzip", e.Gzipped)
			require.Equal(t, enc == "deflate", e.Deflated)
			require.Equal(t, "gzip, deflate", e.Headers.Get("Accept-Encoding"))
		})
	}

	t.Run("caller's Accept-Encoding: body not decoded", func(t *testing.T) {
		resp, err := s.Get(ctx, "gzip", aiohttp.Header{"Accept-Encoding": {"gzip"}})
		require.NoError(t, err)
		defer resp.Close()
		require.Equal(t, "gzip", resp.Header().Get("Content-Encoding"))
		b, err := resp.Bytes()
		require.NoError(t, err)
		require.True(t, len(b) > 2 && b[0] == 0x1f && b[1] == 0x8b, "not gzip bytes: %q", b)
		require.Equal(t, int64(len(b)), resp.ContentLength)
	})

	t.Run("stream 5 lines", func(t *testing.T) {
		resp, err := s.Get(ctx, "stream/5")
		require.NoError(t, err)
		defer resp.Close()
		n := 0
		for line, err := range resp.Lines() {
			require.NoError(t, err)
			var e hbEcho
			require.NoError(t, json.Unmarshal(line, &e), "line %d: %q", n, line)
			require.NotNil(t, e.ID)
			require.Equal(t, n, *e.ID)
			n++
		}
		require.Equal(t, 5, n)
		rqNoneInUse(t, s)
	})

	t.Run("bytes 1000", func(t *testing.T) {
		resp, err := s.Get(ctx, "bytes/1000", aiohttp.Params{"seed": {"7"}})
		require.NoError(t, err)
		defer resp.Close()
		require.Equal(t, int64(1000), resp.ContentLength)
		b, err := resp.Bytes()
		require.NoError(t, err)
		require.Len(t, b, 1000)
	})

	t.Run("drip to EOF", func(t *testing.T) {
		resp, err := s.Get(ctx, "drip", aiohttp.Params{"numbytes": {"5"}, "duration": {"0.05"}, "delay": {"0"}})
		require.NoError(t, err)
		defer resp.Close()
		require.Equal(t, 200, resp.Status)
		b, err := io.ReadAll(resp)
		require.NoError(t, err)
		require.Equal(t, "*****", string(b))
		rqNoneInUse(t, s)
	})

	t.Run("headers", func(t *testing.T) {
		resp, err := s.Get(ctx, "headers", aiohttp.Header{"X-Custom": {"v1"}, "x-lower": {"v2"}})
		require.NoError(t, err)
		defer resp.Close()
		var out struct {
			Headers http.Header `json:"headers"`
		}
		require.NoError(t, resp.JSON(&out))
		require.Equal(t, "v1", out.Headers.Get("X-Custom"))
		require.Equal(t, "v2", out.Headers.Get("X-Lower"))
		require.Equal(t, aiohttp.DefaultUserAgent, out.Headers.Get("User-Agent"))
		require.Equal(t, "*/*", out.Headers.Get("Accept"))
		require.Equal(t, "gzip, deflate", out.Headers.Get("Accept-Encoding"))
	})

	t.Run("basic auth", func(t *testing.T) {
		resp, err := s.Get(ctx, "basic-auth/u/p", aiohttp.BasicAuth("u", "p"))
		require.NoError(t, err)
		var out struct {
			Authenticated bool   `json:"authenticated"`
			User          string `json:"user"`
		}
		require.Equal(t, 200, resp.Status)
		require.NoError(t, resp.JSON(&out))
		require.NoError(t, resp.Close())
		require.True(t, out.Authenticated)
		require.Equal(t, "u", out.User)

		resp, err = s.Get(ctx, "basic-auth/u/p")
		require.NoError(t, err)
		require.Equal(t, 401, resp.Status)
		require.NoError(t, resp.Close())

		resp, err = s.Get(ctx, "basic-auth/u/p", aiohttp.BasicAuth("u", "wrong"))
		require.NoError(t, err)
		require.Equal(t, 401, resp.Status)
		require.NoError(t, resp.Close())
	})

	t.Run("delay beyond Total", func(t *testing.T) {
		resp, err := s.Get(ctx, "delay/1", aiohttp.Timeout{Total: 200 * time.Millisecond})
		if resp != nil {
			resp.Close()
		}
		require.Nil(t, resp)
		var te *aiohttp.TimeoutError
		require.ErrorAs(t, err, &te)
		require.Equal(t, aiohttp.PhaseTotal, te.Phase)
		require.Equal(t, 200*time.Millisecond, te.Duration)
		require.ErrorIs(t, err, aiohttp.ErrTimeout)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		require.ErrorIs(t, err, aiohttp.ErrClient)
		var ne net.Error
		require.True(t, errors.As(err, &ne) && ne.Timeout(), "not a net.Error with Timeout: %v", err)
		rqNoneInUse(t, s)
	})

	rqNoneInUse(t, s)
}
