package shm

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// rejoin gives this process's entry back and claims one again, as a
// process detaching and the next one attaching would.
func rejoin(t *testing.T, s *Segment) uint64 {
	t.Helper()
	s.m.leave()
	id, err := s.m.join()
	require.NoError(t, err)
	s.m.self = id
	return id
}

// The wrap the old 10-bit generation had: one entry claimed more than
// 1,024 times. A word left holding the first claimant's ID (a lock of a
// process that died) must never name a later claimant, however many
// come: every ID is new, and the first stays dead while the entry is
// occupied by a live process.
func TestIDIsNeverHandedOutAgainPastTheOldWrap(t *testing.T) {
	s, err := Anonymous(4096, WithParticipants(1))
	require.NoError(t, err)
	defer s.Detach()
	first := s.Self()
	seen := map[uint64]bool{first: true}
	for range 3 * 1024 {
		id := rejoin(t, s)
		require.False(t, seen[id], "ID %#x handed out twice", id)
		seen[id] = true
		require.Equal(t, idIndex(first), idIndex(id), "one entry, churned")
		require.False(t, s.Alive(first), "the first claimant's ID names a live stranger")
		require.NotEqual(t, first, s.Self())
	}
}

// With the generation shrunk to 3 bits, an entry gives out 7 IDs and is
// then retired: never wrapped, never reissued. The table's other entry
// serves on; a table of retired entries is full.
func TestEntryIsRetiredWhenItsGenerationsAreUsedUp(t *testing.T) {
	defer func(b uint) { genBits = b }(genBits)
	genBits = 3
	s, err := Anonymous(4096, WithParticipants(2))
	require.NoError(t, err)
	defer s.Detach()
	seen := map[uint64]bool{s.Self(): true}
	for {
		s.m.leave()
		id, err := s.m.join()
		if err != nil {
			require.ErrorIs(t, err, ErrTooManyParticipants)
			s.m.self = 0 // attached no more
			break
		}
		s.m.self = id
		require.False(t, seen[id], "ID %#x handed out twice", id)
		seen[id] = true
		require.Less(t, len(seen), 100, "entries never retire")
	}
	require.Len(t, seen, 2*int(genMax()), "each entry served every generation once")
	for id := range seen {
		require.False(t, s.Alive(id))
	}
}

// Attaches go round the table: after n claims of an n-entry table every
// entry has been claimed once, so no entry churns while others sit idle.
func TestClaimsGoRoundTheTable(t *testing.T) {
	const n = 8
	s, err := Anonymous(4096, WithParticipants(n))
	require.NoError(t, err)
	defer s.Detach()
	uses := map[uint32]int{idIndex(s.Self()): 1}
	for range 4*n - 1 {
		uses[idIndex(rejoin(t, s))]++
	}
	require.Len(t, uses, n)
	for i, c := range uses {
		require.Equal(t, 4, c, "entry %d", i)
	}
}

// A claimer that loses its entry to another claimer before it has
// recorded its start time (the other found the entry's previous occupant
// dead in that instant) must not overwrite the winner's start time: it
// sees the entry changed and looks for another.
func TestStoreStartGivesWayToALaterClaimer(t *testing.T) {
	s, err := Anonymous(4096, WithParticipants(2))
	require.NoError(t, err)
	defer s.Detach()
	i := idIndex(s.Self())%2 + 1
	mine := packEntry(pidMask, 5)
	*s.m.slotA(i) = mine
	winner := packEntry(pidMask-1, 6)
	*s.m.slotA(i) = winner // taken over before we stored our start time
	*s.m.slotB(i) = 4242
	require.False(t, s.m.storeStart(i, mine, 1))
	require.Equal(t, uint64(4242), *s.m.slotB(i))
}
