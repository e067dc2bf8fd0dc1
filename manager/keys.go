package manager

import (
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/multiproc-go/multiproc/shm"
)

// Authkeys and proxies that cross to another process.
//
// A proxy's bytes name its server's address, never its key: bytes put in a
// queue, a file or a log must not hand out the server. A process that
// decodes a proxy finds the key for that address in its own table, which
// holds:
//
//   - the key of every server this process connected to (Connect, Dial,
//     Start): it proved that key with the server, both ways;
//   - keys inherited from the parent: a proxy encoded inside procs.Start
//     (in the child's argument) passes its address and key to the child
//     in a descriptor, as segments and pipes cross (shm.ExportFile), and
//     its bytes carry only that descriptor's index, meaningless outside the
//     start it belongs to. This is Python's way too: its children inherit
//     the parent's authkey, nobody else gets it;
//   - keys the program gives with Authorize.
//
// A proxy naming an address the table has no key for fails to decode with
// ErrAuth, and nothing is dialled: bytes from elsewhere cannot make this
// process offer its key's proof to whatever server they name (a relay
// could pass that proof on to the real server).
var keys = struct {
	sync.Mutex
	byAddr    map[string][]byte
	inherited map[int]inheritedKey // by export index: decoded once, however many proxies name it
}{byAddr: map[string][]byte{}, inherited: map[int]inheritedKey{}}

type inheritedKey struct {
	address string
	key     []byte
	err     error
}

// Authorize lets proxies decoded in this process reach the server at
// address with authkey: for proxies that arrive other than in a child's
// argument (through a queue, a file, a Pool task), in a process that has
// not connected to their server itself. It is Python's setting of
// current_process().authkey.
func Authorize(address string, authkey []byte) error {
	if len(authkey) == 0 {
		return fmt.Errorf("manager: authorize %s: an empty authkey: %w", address, ErrInvalid)
	}
	if _, _, err := parseAddress(address); err != nil {
		return err
	}
	rememberKey(canonical(address), authkey)
	return nil
}

func rememberKey(address string, key []byte) {
	keys.Lock()
	defer keys.Unlock()
	keys.byAddr[address] = append([]byte(nil), key...)
}

func keyFor(address string) []byte {
	keys.Lock()
	defer keys.Unlock()
	return keys.byAddr[address]
}

// exportKey records, when the proxy is being encoded for a child (inside
// procs.Start), a descriptor holding c's address and key, and returns its
// index plus one; 0 when there is no child to pass it to.
func (c *client) exportKey() (int, error) {
	c.keyOnce.Do(func() { c.keyFile, c.keyErr = keyFile(c.address, c.opts.Authkey) })
	if c.keyErr != nil {
		return 0, c.keyErr
	}
	if c.keyFile == nil {
		return 0, fmt.Errorf("manager: encoding a proxy: %w", c.err)
	}
	i, err := shm.ExportFile(c.keyFile)
	if errors.Is(err, shm.ErrNotExporting) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("manager: encoding a proxy: %w", err)
	}
	return i + 1, nil
}

// inheritKey reads (once per index) the address and key the parent passed
// with export index i, remembers the key, and returns the address.
func inheritKey(i int) (string, error) {
	keys.Lock()
	defer keys.Unlock()
	if k, ok := keys.inherited[i]; ok {
		return k.address, k.err
	}
	k := readKeyFile(i)
	keys.inherited[i] = k
	if k.err == nil {
		keys.byAddr[k.address] = k.key
	}
	return k.address, k.err
}

// maxKeyFile bounds what a key descriptor may hold: an address and a key.
const maxKeyFile = 64 << 10

func readKeyFile(i int) inheritedKey {
	f, err := shm.InheritedFile(i)
	if err != nil {
		return inheritedKey{err: fmt.Errorf("manager: decoding a proxy: its key: %w", err)}
	}
	defer f.Close()
	b := make([]byte, maxKeyFile+1)
	n, err := f.ReadAt(b, 0)
	if n == 0 && err != nil {
		return inheritedKey{err: fmt.Errorf("manager: decoding a proxy: its key: %w", err)}
	}
	address, key, ok := strings.Cut(string(b[:n]), "\x00")
	if !ok || n > maxKeyFile || key == "" {
		return inheritedKey{err: fmt.Errorf("manager: decoding a proxy: a malformed key descriptor: %w", ErrProtocol)}
	}
	return inheritedKey{address: address, key: []byte(key)}
}
