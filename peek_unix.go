//go:build unix

package aiohttp

import (
	"net"
	"syscall"
)

// peekIdle reports whether an idle connection is still usable: a non-blocking MSG_PEEK finds
// neither a byte (stray data or an early response) nor EOF (the server closed it). It costs one
// syscall and no allocation.
func peekIdle(c net.Conn) bool {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return true
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	alive := false
	var buf [1]byte
	err = rc.Control(func(fd uintptr) {
		n, _, err := syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		alive = n < 0 && (err == syscall.EAGAIN || err == syscall.EWOULDBLOCK)
	})
	return err == nil && alive
}
