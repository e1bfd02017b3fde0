// Package aiohttp is an HTTP client with the shape of Python's aiohttp ClientSession.
//
// A [Session] owns (or shares) a pooled [Connector] with a total and a per-host connection limit.
// A request returns a [Response] as soon as the head is read; its body is read lazily, and reading
// it to EOF or closing it returns the connection to the pool. Timeouts are split into Total,
// Connect, SockConnect and SockRead ([Timeout]) and applied as socket deadlines; the caller's
// context cancels at any point.
//
//	s, err := aiohttp.NewSession(aiohttp.Config{BaseURL: "https://api.example.com/v1/"})
//	if err != nil { ... }
//	defer s.Close()
//	resp, err := s.Get(ctx, "users/42", aiohttp.Params{"expand": {"teams"}})
//	if err != nil { ... }
//	defer resp.Close()
//	var u User
//	err = resp.JSON(&u)
//
// Every error a request or a body read returns is a *[RequestError] ("GET https://host/path:
// what happened") matching [ErrClient], wrapping one of the types in errors.go: connector
// failures, timeouts with their phase, malformed responses, payload errors and so on.
//
// The HTTP/1.1 engine does its I/O on the caller's goroutine: there is no goroutine per
// connection, and none per request unless a large or streaming body is being uploaded.
package aiohttp
