package aiohttp_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aiohttp-go/aiohttp"
	"github.com/stretchr/testify/require"
)

// tsServer is an httptest TLS server that counts connections and reports the TLS version of each
// request in its body.
type tsServer struct {
	*httptest.Server
	conns atomic.Int64
	pool  *x509.CertPool // trusts the server's certificate
}

func tsStart(t *testing.T, cfg *tls.Config) *tsServer {
	t.Helper()
	ts := &tsServer{}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s %x", r.URL.Path, r.TLS.Version)
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // failed handshakes are the point of some tests
	srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			ts.conns.Add(1)
		}
	}
	srv.TLS = cfg
	srv.StartTLS()
	t.Cleanup(srv.Close)
	ts.Server = srv
	ts.pool = x509.NewCertPool()
	ts.pool.AddCert(srv.Certificate())
	return ts
}

func tsVersion(v uint16) string { return fmt.Sprintf("%x", v) }

func TestTLSRootCAs(t *testing.T) {
	srv := tsStart(t, nil)
	s := rqSession(t, aiohttp.Config{
		BaseURL:         srv.URL + "/",
		ConnectorConfig: aiohttp.ConnectorConfig{TLSConfig: &tls.Config{RootCAs: srv.pool}},
	})
	for i := 0; i < 3; i++ {
		resp, err := s.Get(context.Background(), "p")
		require.NoError(t, err)
		txt, err := resp.Text()
		require.NoError(t, err)
		require.NoError(t, resp.Close())
		require.Equal(t, 200, resp.Status)
		require.Equal(t, "https", resp.URL().Scheme)
		require.True(t, txt == "/p "+tsVersion(tls.VersionTLS13) || txt == "/p "+tsVersion(tls.VersionTLS12), "body %q", txt)
	}
	st := s.Connector().Stats()
	require.Equal(t, uint64(1), st.Dials, "stats %+v", st)
	require.Equal(t, uint64(2), st.Reuses, "stats %+v", st)
	require.Equal(t, int64(1), srv.conns.Load(), "server connections")
}

func TestTLSServerNameInConfig(t *testing.T) {
	srv := tsStart(t, nil)
	// The certificate names example.com: verifying against that name works over 127.0.0.1.
	s := rqSession(t, aiohttp.Config{
		ConnectorConfig: aiohttp.ConnectorConfig{TLSConfig: &tls.Config{RootCAs: srv.pool, ServerName: "example.com"}},
	})
	resp, err := s.Get(context.Background(), srv.URL+"/n")
	require.NoError(t, err)
	defer resp.Close()
	require.Equal(t, 200, resp.Status)
}

func TestTLSUntrusted(t *testing.T) {
	srv := tsStart(t, nil)
	port := srv.URL[strings.LastIndex(srv.URL, ":")+1:]
	late := &tls.Config{} // RootCAs set only after NewSession: the connector holds a copy
	tests := []struct {
		name string
		cfg  *tls.Config
		url  string
	}{
		{"no TLSConfig", nil, srv.URL + "/"},
		{"empty TLSConfig", &tls.Config{}, srv.URL + "/"},
		{"other root", &tls.Config{RootCAs: x509.NewCertPool()}, srv.URL + "/"},
		{"host not in certificate", &tls.Config{RootCAs: srv.pool}, "https://localhost:" + port + "/"},
		{"ServerName not in certificate", &tls.Config{RootCAs: srv.pool, ServerName: "wrong.test"}, srv.URL + "/"},
		{"config edited after NewSession", late, srv.URL + "/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := rqSession(t, aiohttp.Config{ConnectorConfig: aiohttp.ConnectorConfig{TLSConfig: tt.cfg}})
			if tt.cfg == late {
				late.RootCAs = srv.pool
			}
			resp, err := s.Get(context.Background(), tt.url)
			if resp != nil {
				resp.Close()
			}
			require.Nil(t, resp)
			var ce *aiohttp.CertificateError
			require.ErrorAs(t, err, &ce)
			require.ErrorIs(t, err, aiohttp.ErrConnector)
			require.ErrorIs(t, err, aiohttp.ErrClient)
			var se *aiohttp.SSLError
			require.False(t, errors.As(err, &se), "a certificate failure reported as *SSLError: %v", err)
			require.True(t, strings.HasSuffix(ce.Addr, ":"+port), "Addr %q", ce.Addr)
			rqNoneInUse(t, s)
			require.Zero(t, s.Connector().Stats().Open)
		})
	}
}

func TestTLSVersions(t *testing.T) {
	tests := []struct {
		name    string
		server  *tls.Config
		client  func(pool *x509.CertPool) *tls.Config
		wantVer uint16 // 0: the handshake must fail with *SSLError
	}{
		{"server requires TLS 1.3", &tls.Config{MinVersion: tls.VersionTLS13},
			func(p *x509.CertPool) *tls.Config { return &tls.Config{RootCAs: p} }, tls.VersionTLS13},
		{"server capped at TLS 1.2", &tls.Config{MaxVersion: tls.VersionTLS12},
			func(p *x509.CertPool) *tls.Config { return &tls.Config{RootCAs: p} }, tls.VersionTLS12},
		{"server capped at TLS 1.1", &tls.Config{MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11},
			func(p *x509.CertPool) *tls.Config { return &tls.Config{RootCAs: p} }, 0},
		{"server capped at TLS 1.0", &tls.Config{MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS10},
			func(p *x509.CertPool) *tls.Config { return &tls.Config{RootCAs: p} }, 0},
		{"server capped at TLS 1.1, client asks for 1.0", &tls.Config{MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11},
			func(p *x509.CertPool) *tls.Config { return &tls.Config{RootCAs: p, MinVersion: tls.VersionTLS10} }, 0},
		{"server capped at TLS 1.1, client skips verification", &tls.Config{MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11},
			func(*x509.CertPool) *tls.Config { return &tls.Config{InsecureSkipVerify: true} }, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := tsStart(t, tt.server)
			s := rqSession(t, aiohttp.Config{ConnectorConfig: aiohttp.ConnectorConfig{TLSConfig: tt.client(srv.pool)}})
			resp, err := s.Get(context.Background(), srv.URL+"/v")
			if tt.wantVer != 0 {
				require.NoError(t, err)
				defer resp.Close()
				txt, err := resp.Text()
				require.NoError(t, err)
				require.Equal(t, "/v "+tsVersion(tt.wantVer), txt)
				return
			}
			if resp != nil {
				resp.Close()
			}
			require.Nil(t, resp)
			t.Logf("error: %v", err)
			var se *aiohttp.SSLError
			require.ErrorAs(t, err, &se)
			require.ErrorIs(t, err, aiohttp.ErrConnector)
			require.ErrorIs(t, err, aiohttp.ErrClient)
			var ce *aiohttp.CertificateError
			require.False(t, errors.As(err, &ce), "a version failure reported as *CertificateError: %v", err)
			rqNoneInUse(t, s)
		})
	}
}

func TestTLSInsecureSkipVerify(t *testing.T) {
	srv := tsStart(t, nil)
	port := srv.URL[strings.LastIndex(srv.URL, ":")+1:]
	s := rqSession(t, aiohttp.Config{ConnectorConfig: aiohttp.ConnectorConfig{TLSConfig: &tls.Config{InsecureSkipVerify: true}}})
	for _, u := range []string{srv.URL + "/a", "https://localhost:" + port + "/b", srv.URL + "/c"} {
		resp, err := s.Get(context.Background(), u)
		require.NoError(t, err, u)
		_, err = resp.Bytes()
		require.NoError(t, err)
		require.NoError(t, resp.Close())
		require.Equal(t, 200, resp.Status)
	}
	// 127.0.0.1 and localhost are two pool keys: two connections, one reuse.
	st := s.Connector().Stats()
	require.Equal(t, uint64(2), st.Dials, "stats %+v", st)
	require.Equal(t, uint64(1), st.Reuses, "stats %+v", st)
}
