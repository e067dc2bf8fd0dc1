package shm_test

import (
	"errors"
	"io/fs"
	"testing"

	"github.com/multiproc-go/multiproc/internal/testutil"
	"github.com/multiproc-go/multiproc/shm"
	"github.com/stretchr/testify/assert"
)

// Code written for files (errors.Is(err, fs.ErrExist)) must handle
// segments and objects too, for segments by name and objects in a segment.
func TestShmExistsIsFsExist(t *testing.T) {
	s, name := create(t, 4096)
	_, err := shm.Create(name, 4096)
	assert.ErrorIs(t, err, fs.ErrExist)
	assert.ErrorIs(t, err, shm.ErrExists)
	assert.NotErrorIs(t, err, fs.ErrNotExist)

	_, err = s.Create(shm.Spec{Name: "x", Kind: shm.KindBytes, Size: 8}, nil)
	assert.NoError(t, err)
	_, err = s.Create(shm.Spec{Name: "x", Kind: shm.KindBytes, Size: 8}, nil)
	assert.ErrorIs(t, err, fs.ErrExist)
}

func TestShmNotFoundIsFsNotExist(t *testing.T) {
	_, err := shm.Open(testutil.Name(t))
	assert.ErrorIs(t, err, fs.ErrNotExist)
	assert.ErrorIs(t, err, shm.ErrNotFound)
	assert.NotErrorIs(t, err, fs.ErrExist)
	assert.ErrorIs(t, shm.Unlink(testutil.Name(t)), fs.ErrNotExist)

	s, _ := create(t, 4096)
	_, err = s.Lookup("nothing")
	assert.ErrorIs(t, err, fs.ErrNotExist)
}

// The two sentinels stay distinct from each other and from the fs errors
// they match: errors.Is(fs.ErrExist, shm.ErrExists) is false, since an
// os error is not a segment's.
func TestShmSentinelsAreTheirOwn(t *testing.T) {
	assert.False(t, errors.Is(fs.ErrExist, shm.ErrExists))
	assert.False(t, errors.Is(shm.ErrExists, shm.ErrNotFound))
	assert.Equal(t, "already exists", shm.ErrExists.Error())
	assert.Equal(t, "not found", shm.ErrNotFound.Error())
}
