//go:build !unix

package aiohttp

import "net"

// peekIdle cannot look at the socket on this platform; the stale-connection retry covers
// replayable requests.
func peekIdle(net.Conn) bool { return true }
