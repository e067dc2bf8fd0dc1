package manager

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"strings"
)

// Addresses. A manager listens on, and clients dial, one of:
//
//	""                       a fresh abstract unix socket (Listen only)
//	"@name", "unix:@name"    an abstract unix socket: no file, gone with the server
//	"/path", "unix:/path"    a unix socket file, removed when the listener closes
//	"tcp://host:port"        TCP; an empty host means 127.0.0.1, port 0 any port
//	"host:port"              the same as tcp://host:port
//
// The server binds loopback unless the address names another interface:
// reaching a manager from another machine takes an explicit
// "tcp://0.0.0.0:port" (or that machine's address), a deliberate choice.
// Address strings as Manager.Address returns them always carry the scheme.
func parseAddress(a string) (network, addr string, err error) {
	switch {
	case strings.HasPrefix(a, "unix://"):
		network, addr = "unix", strings.TrimPrefix(a, "unix://")
	case strings.HasPrefix(a, "unix:"):
		network, addr = "unix", strings.TrimPrefix(a, "unix:")
	case strings.HasPrefix(a, "@"), strings.HasPrefix(a, "/"):
		network, addr = "unix", a
	case strings.HasPrefix(a, "tcp://"):
		network, addr = "tcp", strings.TrimPrefix(a, "tcp://")
	case strings.Contains(a, "://"):
		return "", "", fmt.Errorf("manager: address %q: unknown scheme: %w", a, ErrInvalid)
	case strings.Contains(a, ":"):
		network, addr = "tcp", a
	default:
		return "", "", fmt.Errorf("manager: address %q: want @name, /path, unix:..., tcp://host:port or host:port: %w", a, ErrInvalid)
	}
	if network == "unix" && (addr == "" || addr == "@") {
		return "", "", fmt.Errorf("manager: address %q: empty socket name: %w", a, ErrInvalid)
	}
	if network == "tcp" {
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			return "", "", fmt.Errorf("manager: address %q: %w: %v", a, ErrInvalid, err)
		}
		if host == "" {
			host = "127.0.0.1"
		}
		addr = net.JoinHostPort(host, port)
	}
	return network, addr, nil
}

// formatAddress is the canonical form of a parsed address, as
// Manager.Address returns it.
func formatAddress(network, addr string) string {
	if network == "tcp" {
		return "tcp://" + addr
	}
	return "unix:" + addr
}

// canonical returns address in canonical form, or address itself if it
// does not parse (dialing it will say why).
func canonical(address string) string {
	network, addr, err := parseAddress(address)
	if err != nil {
		return address
	}
	return formatAddress(network, addr)
}

// Addr formats a net.Addr (a listener's, say) as an address Dial and
// Connect accept.
func Addr(a net.Addr) string {
	switch a.Network() {
	case "unix", "unixpacket":
		return "unix:" + a.String()
	default:
		return "tcp://" + a.String()
	}
}

// Listen opens a listener for a manager server at address (see the forms
// above); "" makes a fresh abstract unix socket named after this process.
// Serve it with Serve or (*Server).Serve; Addr(l.Addr()) is the address
// clients dial.
func Listen(address string) (net.Listener, error) {
	if address == "" {
		address = freshAbstract("manager")
	}
	network, addr, err := parseAddress(address)
	if err != nil {
		return nil, err
	}
	l, err := net.Listen(network, addr)
	if err != nil {
		return nil, fmt.Errorf("manager: listen %s: %w", address, err)
	}
	return l, nil
}

// freshAbstract names a new abstract unix socket. Abstract sockets leave
// nothing on disk whatever happens to the process; the authkey, not file
// permissions, keeps other local users out.
func freshAbstract(what string) string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("@multiproc-%s-%d-%s", what, os.Getpid(), hex.EncodeToString(b[:]))
}
