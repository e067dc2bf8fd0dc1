package ringqueue

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestCopyMsgIsCopy: every length around the move units' boundaries, at
// aligned and misaligned offsets (which must fall back to copy), into a
// shorter or longer destination, copies exactly what copy does and
// touches nothing past it.
func TestCopyMsgIsCopy(t *testing.T) {
	const guard = 64
	src := make([]byte, 200<<10+guard)
	for i := range src {
		src[i] = byte(i*7 + i>>8)
	}
	for _, n := range []int{0, 1, 8, 4<<10 - 1, 4 << 10, 4<<10 + 1, 8<<10 + 8, 16 << 10, 16<<10 + 4<<10 + 7, 64<<10 - 8, 64 << 10, 64<<10 + 16<<10 + 4<<10 + 3, 200 << 10} {
		for _, off := range [][2]int{{0, 0}, {8, 16}, {1, 0}, {0, 3}, {5, 5}} {
			for _, short := range []int{0, 1, 4 << 10} {
				t.Run(fmt.Sprintf("n=%d/dst+%d/src+%d/short=%d", n, off[0], off[1], short), func(t *testing.T) {
					want := max(n-short, 0)
					dstBuf := make([]byte, off[0]+want+guard)
					dst := dstBuf[off[0] : off[0]+want]
					s := src[off[1] : off[1]+n]
					require.Equal(t, want, copyMsg(dst, s))
					require.True(t, bytes.Equal(dst, s[:want]))
					require.Equal(t, make([]byte, guard), dstBuf[off[0]+want:], "nothing written past dst")
					require.Equal(t, make([]byte, off[0]), dstBuf[:off[0]], "nothing written before dst")
				})
			}
		}
	}
}

// TestCopyIsCopyMsg: the exported form is the same copy.
func TestCopyIsCopyMsg(t *testing.T) {
	src := bytes.Repeat([]byte("0123456789abcdef"), 5<<10/16)
	dst := make([]byte, len(src))
	require.Equal(t, len(src), Copy(dst, src))
	require.Equal(t, src, dst)
	require.Equal(t, 3, Copy(dst[:3], src))
}
