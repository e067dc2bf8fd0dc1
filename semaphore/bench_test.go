package semaphore

import (
	"sync"
	"testing"
)

// BenchmarkMutex compares the shared Mutex with sync.Mutex in one run.
func BenchmarkMutex(b *testing.B) {
	b.Run("uncontended", func(b *testing.B) {
		b.Run("multiproc", func(b *testing.B) {
			m := must(NewMutex(newSeg(b), "m"))
			b.ReportAllocs()
			for b.Loop() {
				_ = m.Lock()
				_ = m.Unlock()
			}
		})
		b.Run("sync.Mutex", func(b *testing.B) {
			var m sync.Mutex
			b.ReportAllocs()
			for b.Loop() {
				m.Lock()
				//lint:ignore SA2001 an empty critical section is what is measured
				m.Unlock()
			}
		})
	})
	b.Run("contended", func(b *testing.B) {
		b.Run("multiproc", func(b *testing.B) {
			m := must(NewMutex(newSeg(b), "m"))
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					_ = m.Lock()
					_ = m.Unlock()
				}
			})
		})
		b.Run("sync.Mutex", func(b *testing.B) {
			var m sync.Mutex
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					m.Lock()
					//lint:ignore SA2001 an empty critical section is what is measured
					m.Unlock()
				}
			})
		})
	})
}
