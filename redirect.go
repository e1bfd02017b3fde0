package aiohttp

import (
	"context"
	"net/url"
	"strings"
)

// follow sends r and follows up to max redirects. Every hop counts against the same deadlines.
func (s *Session) follow(ctx context.Context, r *outRequest, dl *deadlines, max int) (*Response, error) {
	var history []*Response
	for {
		resp, err := s.send(ctx, r, dl)
		if err != nil {
			return nil, r.wrap(err)
		}
		resp.history = history
		if !isRedirect(resp.Status) || max == 0 {
			return resp, nil
		}
		loc := resp.head.Get("Location")
		if loc == "" {
			return resp, nil // nothing to follow: the caller sees the 3xx
		}
		resp.Close()
		history = append(history[:len(history):len(history)], resp)
		if len(history) > max {
			return nil, r.wrap(&TooManyRedirectsError{Max: max, History: history})
		}
		next, err := r.redirect(resp.Status, loc)
		if err != nil {
			return nil, r.wrap(err)
		}
		r = next
	}
}

func isRedirect(status int) bool {
	switch status {
	case 301, 302, 303, 307, 308:
		return true
	}
	return false
}

// redirect builds the next hop for a redirect response with the given status and Location:
// 303 (and 301/302 after POST) becomes a GET without body; 307 and 308 send the body again,
// which must be rewindable; a hop to another origin drops credentials.
func (r *outRequest) redirect(status int, loc string) (*outRequest, error) {
	u, err := r.url.Parse(strings.TrimSpace(loc))
	if err != nil {
		return nil, &InvalidURLError{URL: redactRaw(loc), Reason: "redirect Location: " + urlErrReason(err)}
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, &InvalidURLError{URL: u.Redacted(), Reason: "redirect to a non-HTTP URL refused"}
	}
	next := *r
	next.shared = true // the previous hop's map: copy before changing
	if err := next.setURL(u); err != nil {
		return nil, err
	}
	if u.User != nil {
		// Credentials in a Location are never used.
		uu := *next.url
		uu.User = nil
		next.url = &uu
	}
	if (status == 303 && r.method != "HEAD") || ((status == 301 || status == 302) && r.method == "POST") {
		next.method = "GET"
		next.body = nil
		if _, ok := getFold(next.header, "Content-Type"); ok {
			next.ownHeader()
			deleteFold(next.header, "Content-Type")
		}
	} else if next.body != nil {
		if err := next.body.rewind(); err != nil {
			return nil, ErrBodyNotReplayable
		}
	}
	if !sameOrigin(r.url, next.url) {
		next.hostOverride = ""
		for _, k := range [...]string{"Authorization", "Cookie", "Proxy-Authorization", "WWW-Authenticate"} {
			if _, ok := getFold(next.header, k); ok {
				next.ownHeader()
				deleteFold(next.header, k)
			}
		}
	} else if next.hostOverride != "" {
		next.host = next.hostOverride
	}
	return &next, nil
}

// sameOrigin compares scheme, host and port (default ports made explicit).
func sameOrigin(a, b *url.URL) bool {
	return a.Scheme == b.Scheme && strings.EqualFold(a.Hostname(), b.Hostname()) && port(a) == port(b)
}

func port(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if u.Scheme == "https" {
		return "443"
	}
	return "80"
}
