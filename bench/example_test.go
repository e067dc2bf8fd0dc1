package bench

import "fmt"

// The Throughput sizes and how the rings are configured for them.
func Example() {
	for _, s := range msgSizes {
		fmt.Printf("%-6s ring of %4d slots × %6d bytes = %4d KiB\n", s.name, s.slots, s.bytes, s.slots*s.bytes>>10)
	}
	// Output:
	// 8B     ring of 1024 slots ×      8 bytes =    8 KiB
	// 64B    ring of 1024 slots ×     64 bytes =   64 KiB
	// 4KiB   ring of 1024 slots ×   4096 bytes = 4096 KiB
	// 64KiB  ring of   64 slots ×  65536 bytes = 4096 KiB
}
