package python_test

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/multiproc-go/multiproc/internal/testutil"
	"github.com/multiproc-go/multiproc/shm"
)

// TestMain runs a child's registered function when procs re-executes the
// test binary, and fails the run if a test left a segment or a child.
func TestMain(m *testing.M) { testutil.Main(m) }

var interp struct {
	sync.Once
	path string
}

// python3 returns the interpreter ($MULTIPROC_PYTHON, else python3 on
// $PATH), skipping the test when there is none. It asks the interpreter
// for its own path once: a version manager's shim (pyenv) costs seconds
// per start on a loaded machine.
func python3(t testing.TB) string {
	t.Helper()
	interp.Do(func() {
		name := os.Getenv("MULTIPROC_PYTHON")
		if name == "" {
			name = "python3"
		}
		p, err := exec.LookPath(name)
		if err != nil {
			return
		}
		out, err := exec.Command(p, "-c", "import sys; print(sys.executable)").Output()
		if real := strings.TrimSpace(string(out)); err == nil && real != "" {
			p = real
		}
		interp.path = p
	})
	if interp.path == "" {
		t.Skip("python3 not found on $PATH: the cross-language tests need it")
	}
	return interp.path
}

// readSources reads the Python sources once: go test caches a passing
// result until a file the test binary opened changes, and the Python
// children's files must count among them.
var readSources sync.Once

// pyCmd is the child script with its arguments, importing the package
// from this directory (no install needed).
func pyCmd(t testing.TB, args ...string) *exec.Cmd {
	t.Helper()
	dir, err := os.Getwd()
	require.NoError(t, err)
	readSources.Do(func() {
		for _, pat := range []string{"multiproc/*.py", "tests/*.py"} {
			files, _ := filepath.Glob(filepath.Join(dir, pat))
			for _, f := range files {
				_, _ = os.ReadFile(f)
			}
		}
	})
	cmd := exec.Command(python3(t), append([]string{filepath.Join(dir, "tests", "xlang_child.py")}, args...)...)
	cmd.Env = append(os.Environ(), "PYTHONPATH="+dir, "PYTHONDONTWRITEBYTECODE=1")
	return cmd
}

// runPy runs the child script to its end and returns its stdout, stderr and error.
func runPy(t testing.TB, args ...string) (string, string, error) {
	t.Helper()
	cmd := pyCmd(t, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	return strings.TrimSpace(out.String()), strings.TrimSpace(errb.String()), err
}

// pyProc is a child script running in the background: its first stdout
// lines tell where it is; its stdin, held open, keeps it waiting.
type pyProc struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   *bufio.Reader
	errb  lockedBuffer
}

// lockedBuffer is a child's stderr: exec copies into it from a goroutine
// of its own while the test may read it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func startPy(t testing.TB, args ...string) *pyProc {
	t.Helper()
	p := &pyProc{cmd: pyCmd(t, args...)}
	var err error
	p.stdin, err = p.cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := p.cmd.StdoutPipe()
	require.NoError(t, err)
	p.out = bufio.NewReader(stdout)
	p.cmd.Stderr = &p.errb
	require.NoError(t, p.cmd.Start())
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			_ = p.cmd.Process.Kill()
			_ = p.cmd.Wait()
		}
	})
	return p
}

// expect reads the child's next stdout line and checks it.
func (p *pyProc) expect(t testing.TB, want string) {
	t.Helper()
	line, err := p.out.ReadString('\n')
	require.NoError(t, err, "python child said %q before ending; stderr: %s", line, p.errb.String())
	require.Equal(t, want, strings.TrimSpace(line), "stderr: %s", p.errb.String())
}

// kill SIGKILLs the child and reaps it.
func (p *pyProc) kill(t testing.TB) {
	t.Helper()
	require.NoError(t, p.cmd.Process.Kill())
	_ = p.cmd.Wait()
}

// namedSeg makes a named segment that Python can open, removed after the test.
func namedSeg(t testing.TB, heap int) (*shm.Segment, string) {
	t.Helper()
	name := testutil.Name(t, "seg")
	seg, err := shm.Create(name, heap)
	require.NoError(t, err)
	t.Cleanup(func() {
		_ = seg.Unlink()
		_ = seg.Detach()
	})
	return seg, name
}

// pattern is what message i of a checksummed stream holds after its index.
var pattern = func() []byte {
	b := make([]byte, 512)
	for i := range b {
		b[i] = byte(i)
	}
	return b
}()

// message builds message i of the stream that tests/xlang_child.py checks
// and builds the same way: i (8 bytes, little-endian), then i%57 bytes of
// the pattern from i%256.
func message(buf []byte, i uint64) []byte {
	n, o := int(i%57), int(i%256)
	buf = binary.LittleEndian.AppendUint64(buf[:0], i)
	return append(buf, pattern[o:o+n]...)
}
