package shm

import (
	"sync/atomic"
	"time"
)

// Info reads what the segment's header, participant table and directory say.
func (s *Segment) Info() (Info, error) {
	if err := s.check(); err != nil {
		return Info{}, err
	}
	m := s.m
	h := m.hdr()
	next := min(max(atomic.LoadUint64(&h.AllocNext), m.heapOff), m.size)
	objs, err := s.Objects()
	return Info{
		ID:           s.ID(),
		Name:         m.name,
		Size:         int(m.size),
		Used:         int(next - m.heapOff),
		Free:         int(m.size - next),
		CreatorPid:   int(m.head.CreatorPid),
		CreatorAlive: processAlive(int(m.head.CreatorPid), m.head.CreatorStart),
		Created:      time.Unix(0, m.head.CreatedNano),
		Participants: m.participantList(),
		Objects:      objs,
	}, err
}
