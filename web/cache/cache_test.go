package cache

import (
	"errors"
	"fmt"
	"sync"
	"testing"
)

// filler answers value, counting its calls.
type filler struct {
	calls int
	value string
	tags  []string
	err   error
	// during runs inside the fill: a write that lands while the value is
	// being read.
	during func()
}

func (f *filler) fill() (any, int, []string, error) {
	f.calls++
	if f.during != nil {
		f.during()
	}
	return f.value, len(f.value), f.tags, f.err
}

func TestGetAndInvalidate(t *testing.T) {
	cases := []struct {
		name      string
		during    func(c *Cache)
		after     []string // tags invalidated after the fill
		err       error
		wantCalls int // fills over two Gets
	}{
		{"second get is a hit", nil, nil, nil, 1},
		{"invalidated tag refills", nil, []string{"patient:1"}, nil, 2},
		{"other tag keeps it", nil, []string{"patient:2"}, nil, 1},
		{"tag dropped during the fill: not kept", func(c *Cache) { c.Invalidate("patient:1") }, nil, nil, 2},
		{"second tag dropped during the fill: not kept", func(c *Cache) { c.Invalidate("all") }, nil, nil, 2},
		{"other tag dropped during the fill: kept", func(c *Cache) { c.Invalidate("patient:2") }, nil, nil, 1},
		{"more drops during the fill than remembered: not kept", func(c *Cache) {
			for i := range recentDrops + 1 {
				c.Invalidate(fmt.Sprint("x", i))
			}
		}, nil, nil, 2},
		{"errors are not kept", nil, nil, errors.New("boom"), 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := New(1 << 20)
			f := &filler{value: "v", tags: []string{"patient:1", "all"}, err: tc.err}
			if tc.during != nil {
				once := true
				f.during = func() {
					if once {
						once = false
						tc.during(c)
					}
				}
			}
			for i := range 2 {
				v, err := c.Get("k", f.fill)
				if !errors.Is(err, tc.err) {
					t.Fatalf("get %d: err %v, want %v", i, err, tc.err)
				}
				if err == nil && v != "v" {
					t.Fatalf("get %d: %v", i, v)
				}
				if i == 0 {
					c.Invalidate(tc.after...)
				}
			}
			if f.calls != tc.wantCalls {
				t.Errorf("fills = %d, want %d", f.calls, tc.wantCalls)
			}
		})
	}
}

func TestBudget(t *testing.T) {
	c := New(2000)
	for i := range 100 {
		f := &filler{value: string(make([]byte, 300)), tags: []string{fmt.Sprint("t", i%7)}}
		if _, err := c.Get(fmt.Sprint("key", i), f.fill); err != nil {
			t.Fatal(err)
		}
		if c.Size() > 2000 {
			t.Fatalf("after %d fills, %d bytes in a 2000-byte cache", i+1, c.Size())
		}
		if c.Len() < 1 {
			t.Fatalf("after %d fills, nothing cached", i+1)
		}
	}
	// An entry larger than the whole budget is answered, never kept.
	big := &filler{value: string(make([]byte, 5000))}
	for range 2 {
		if v, err := c.Get("big", big.fill); err != nil || len(v.(string)) != 5000 {
			t.Fatal(v, err)
		}
	}
	if big.calls != 2 {
		t.Errorf("an entry over the budget was kept")
	}
	// Dropping every tag empties the cache and its bookkeeping.
	for i := range 7 {
		c.Invalidate(fmt.Sprint("t", i))
	}
	if c.Len() != 0 || c.Size() != 0 || len(c.byTag) != 0 {
		t.Errorf("after dropping every tag: %d entries, %d bytes, %d tags", c.Len(), c.Size(), len(c.byTag))
	}
	off := New(0)
	f := &filler{value: "v"}
	off.Get("k", f.fill)
	off.Get("k", f.fill)
	if f.calls != 2 || off.Len() != 0 {
		t.Errorf("disabled cache: %d fills, %d entries", f.calls, off.Len())
	}
}

// A reader that starts after an invalidation returned never gets what was
// cached before it, however many readers race to fill the entry.
func TestNeverStaleAfterInvalidate(t *testing.T) {
	c := New(1 << 20)
	var mu sync.Mutex
	version := 0
	read := func() (any, int, []string, error) {
		mu.Lock()
		v := version
		mu.Unlock()
		return v, 8, []string{"p"}, nil
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				c.Get("k", read)
			}
		}()
	}
	for i := 1; i <= 2000; i++ {
		mu.Lock()
		version = i // the write commits...
		mu.Unlock()
		c.Invalidate("p") // ...and its event drops the tag before it is answered
		v, err := c.Get("k", read)
		if err != nil || v.(int) != i {
			t.Fatalf("after write %d read %v (%v)", i, v, err)
		}
	}
	close(stop)
	wg.Wait()
}

// Put after Mark keeps what a caller read for several keys at once, unless
// a tag of the key was dropped since the mark; Peek sees only what was
// kept and fills nothing.
func TestMarkPutPeek(t *testing.T) {
	cases := []struct {
		name     string
		between  []string // tags invalidated between Mark and Put
		after    []string // tags invalidated after Put
		wantKept bool
	}{
		{"kept", nil, nil, true},
		{"own tag dropped before the put", []string{"observations:1"}, nil, false},
		{"second tag dropped before the put", []string{"device:3"}, nil, false},
		{"other tag dropped before the put", []string{"observations:2"}, nil, true},
		{"own tag dropped after the put", nil, []string{"device:3"}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := New(1 << 20)
			if _, ok := c.Peek("obs:7"); ok {
				t.Fatal("Peek found a value in an empty cache")
			}
			mark := c.Mark()
			c.Invalidate(tc.between...)
			c.Put(mark, "obs:7", "body", 4, []string{"observations:1", "device:3"})
			c.Invalidate(tc.after...)
			v, ok := c.Peek("obs:7")
			if ok != tc.wantKept || (ok && v != "body") {
				t.Fatalf("Peek = %v, %v; want kept %v", v, ok, tc.wantKept)
			}
			if want := map[bool]int{true: 1, false: 0}[tc.wantKept]; c.Len() != want {
				t.Fatalf("Len = %d, want %d", c.Len(), want)
			}
		})
	}
	// A zero budget keeps nothing.
	c := New(0)
	c.Put(c.Mark(), "k", "v", 1, nil)
	if _, ok := c.Peek("k"); ok || c.Len() != 0 {
		t.Fatal("a zero-budget cache kept a value")
	}
}
