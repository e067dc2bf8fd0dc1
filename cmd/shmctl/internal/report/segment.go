package report

import (
	"errors"
	"fmt"
	"os"
	"os/user"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/multiproc-go/multiproc/shm"
)

// Status says what a file in /dev/shm is.
type Status string

// Statuses of a file. Only StatusSegment files have the segment fields of
// Segment filled in; the others carry the reason in Segment.Error.
const (
	StatusSegment    Status = "segment"    // a valid multiproc segment
	StatusForeign    Status = "foreign"    // not a multiproc segment (shm.ErrNotSegment)
	StatusCorrupt    Status = "corrupt"    // multiproc magic, broken header (shm.ErrCorrupt)
	StatusVersion    Status = "version"    // another layout version (shm.ErrVersion)
	StatusUnreadable Status = "unreadable" // could not be opened or mapped (permissions, ...)
)

// Multiproc reports whether the file is, or claims to be, a multiproc
// segment (valid, corrupt, or of another version). Foreign and unreadable
// files are listed only on request.
func (s Status) Multiproc() bool {
	return s == StatusSegment || s == StatusCorrupt || s == StatusVersion
}

// Process is a process named by a segment: its creator or a participant.
type Process struct {
	Pid   int  `json:"pid"`
	Alive bool `json:"alive"`
}

// Participant is an occupied slot of a segment's participant table.
type Participant struct {
	ID    uint64 `json:"id"`
	Pid   int    `json:"pid"`
	Alive bool   `json:"alive"`
}

// Segment is what one file of /dev/shm holds, read without disturbing it.
type Segment struct {
	Name    string    `json:"name"`
	Path    string    `json:"path"`
	Size    int64     `json:"size"`
	Mode    string    `json:"mode"`
	UID     int       `json:"uid"`
	Owner   string    `json:"owner,omitempty"` // the uid's user name, if known
	ModTime time.Time `json:"mod_time"`
	Status  Status    `json:"status"`
	Error   string    `json:"error,omitempty"`

	// Filled for StatusSegment only.
	ID           string        `json:"id,omitempty"`
	Created      *time.Time    `json:"created,omitempty"`
	Used         int           `json:"heap_used,omitempty"`
	Free         int           `json:"heap_free,omitempty"`
	Creator      *Process      `json:"creator,omitempty"`
	Participants []Participant `json:"participants,omitempty"`
	// MappedBy lists other processes that map the file right now although
	// the participant table does not name them (found in /proc/*/maps, for
	// gc and rm only; nil when not looked for).
	MappedBy []int `json:"mapped_by,omitempty"`
	// DirectoryLock is the holder of the segment's directory lock, if held.
	DirectoryLock *Holder `json:"directory_lock,omitempty"`
	// PendingCreations counts objects whose creation has not finished;
	// DeadCreations those whose creator is gone (reused by the next creation).
	PendingCreations int      `json:"pending_creations,omitempty"`
	DeadCreations    int      `json:"dead_creations,omitempty"`
	ObjectCount      int      `json:"object_count"`
	Objects          []Object `json:"objects,omitempty"`
}

// Age is how long ago the segment was created (for a non-segment, last
// modified), as seen at now.
func (s *Segment) Age(now time.Time) time.Duration {
	t := s.ModTime
	if s.Created != nil {
		t = *s.Created
	}
	return max(now.Sub(t), 0)
}

// InUse reports whether any process the segment names still runs (or
// maps it): its creator, a participant, or a process found mapping it.
func (s *Segment) InUse() bool {
	if s.Status != StatusSegment {
		return false
	}
	if s.Creator != nil && s.Creator.Alive {
		return true
	}
	for _, p := range s.Participants {
		if p.Alive {
			return true
		}
	}
	return len(s.MappedBy) > 0
}

// Options say how much to read.
type Options struct {
	Objects  bool // describe every object (inspect); else count them
	MappedBy bool // scan /proc/*/maps for processes mapping the file
}

// ErrNoSuchSegment: the name names no file in /dev/shm.
var ErrNoSuchSegment = errors.New("no such file in " + shm.Dir)

// Load reads the named file of /dev/shm. Only a missing file or an invalid
// name is an error; anything wrong with the file itself is in the result's
// Status and Error.
func Load(name string, o Options) (Segment, error) {
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\x00") {
		return Segment{}, fmt.Errorf("%q: %w", name, shm.ErrInvalidName)
	}
	p := filepath.Join(shm.Dir, name)
	fi, err := os.Lstat(p)
	if err != nil {
		if os.IsNotExist(err) {
			return Segment{}, fmt.Errorf("%s: %w", name, ErrNoSuchSegment)
		}
		return Segment{}, fmt.Errorf("%s: %w", name, err)
	}
	return load(name, fi, o), nil
}

// List reads every file of /dev/shm whose name matches one of patterns
// (path.Match globs; all files when there are none), sorted by name.
func List(patterns []string, o Options) ([]Segment, error) {
	for _, pat := range patterns {
		if _, err := path.Match(pat, ""); err != nil {
			return nil, fmt.Errorf("pattern %q: %w", pat, err)
		}
	}
	entries, err := os.ReadDir(shm.Dir)
	if err != nil {
		return nil, err
	}
	var out []Segment
	for _, e := range entries {
		if !matchAny(patterns, e.Name()) {
			continue
		}
		fi, err := e.Info()
		if err != nil {
			continue // removed meanwhile
		}
		out = append(out, load(e.Name(), fi, o))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func matchAny(patterns []string, name string) bool {
	if len(patterns) == 0 {
		return true
	}
	for _, pat := range patterns {
		if ok, _ := path.Match(pat, name); ok {
			return true
		}
	}
	return false
}

func load(name string, fi os.FileInfo, o Options) Segment {
	s := Segment{
		Name: name, Path: filepath.Join(shm.Dir, name), Size: fi.Size(),
		Mode: fi.Mode().String(), UID: -1, ModTime: fi.ModTime(),
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		s.UID = int(st.Uid)
		s.Owner = userName(s.UID)
	}
	if !fi.Mode().IsRegular() {
		s.Status, s.Error = StatusForeign, "not a regular file"
		return s
	}
	var v *shm.View
	err := safely(func() (err error) { v, err = shm.OpenView(name); return err })
	if err != nil {
		// The name is in the row already: keep the reason only.
		s.Status, s.Error = classify(err), strings.TrimPrefix(err.Error(), fmt.Sprintf("shm: view %q: ", name))
		return s
	}
	defer v.Detach()
	if err := safely(func() error { return fill(&s, v, o) }); err != nil {
		s.Status, s.Error = StatusCorrupt, err.Error()
	}
	if o.MappedBy && s.Status == StatusSegment {
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			s.MappedBy = mappers(uint64(st.Dev), st.Ino)
		}
	}
	return s
}

var userNames sync.Map // uid -> name ("" if unknown)

func userName(uid int) string {
	if n, ok := userNames.Load(uid); ok {
		return n.(string)
	}
	name := ""
	if u, err := user.LookupId(strconv.Itoa(uid)); err == nil {
		name = u.Username
	}
	userNames.Store(uid, name)
	return name
}

func classify(err error) Status {
	switch {
	case errors.Is(err, shm.ErrNotSegment):
		return StatusForeign
	case errors.Is(err, shm.ErrCorrupt):
		return StatusCorrupt
	case errors.Is(err, shm.ErrVersion):
		return StatusVersion
	}
	return StatusUnreadable
}

// fill reads a valid segment's header, table and directory through v.
func fill(s *Segment, v *shm.View, o Options) error {
	info, err := v.Info()
	s.Status = StatusSegment
	if err != nil {
		// A bad directory entry: the rest of Info is good, say what is wrong.
		s.Error = err.Error()
	}
	s.ID = info.ID
	created := info.Created
	s.Created = &created
	s.Used, s.Free = info.Used, info.Free
	s.Creator = &Process{Pid: info.CreatorPid, Alive: info.CreatorAlive}
	for _, p := range info.Participants {
		s.Participants = append(s.Participants, Participant(p))
	}
	if tag := v.DirectoryLock(); tag != 0 {
		s.DirectoryLock = holder(v, tag)
	}
	s.PendingCreations, s.DeadCreations = v.Pending()
	s.ObjectCount = len(info.Objects)
	if o.Objects {
		for _, obj := range info.Objects {
			s.Objects = append(s.Objects, describe(v, obj))
		}
	}
	return nil
}
