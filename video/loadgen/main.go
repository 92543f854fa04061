package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/video"
	"github.com/clinicbox/clinicbox/video/testpeer"
)

func main() {
	sfu := flag.Bool("sfu", false, "run the media server (internal: the child process)")
	baseline := flag.Bool("baseline", false, "with -sfu: forward as a plain pion relay")
	callsFlag := flag.String("calls", "10,25,60", "numbers of concurrent 1:1 calls to measure")
	seconds := flag.Int("seconds", 10, "measurement window per run, after a 3 s warm-up")
	modes := flag.String("modes", "clinicbox,baseline", "forwarding paths to measure")
	flag.Parse()
	if *sfu {
		if err := runSFU(*baseline); err != nil {
			fmt.Fprintln(os.Stderr, "sfu:", err)
			os.Exit(1)
		}
		return
	}
	var calls []int
	for _, f := range strings.Split(*callsFlag, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			fmt.Fprintf(os.Stderr, "-calls %q: numbers of calls, comma-separated\n", *callsFlag)
			os.Exit(2)
		}
		calls = append(calls, n)
	}
	fmt.Printf("CPUs: %d, Go %s, %s\n\n", runtime.NumCPU(), runtime.Version(), time.Now().UTC().Format(time.RFC3339))
	fmt.Println("| forwarding | calls | forwarded pkt/s | server CPU s | µs CPU per forwarded pkt | CPU % of machine | server RSS MiB | loss | dropped at the server's socket | added latency p50 / p95 / max ms | load average |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|---|")
	for _, n := range calls {
		for _, mode := range strings.Split(*modes, ",") {
			r, err := measure(n, mode == "baseline", time.Duration(*seconds)*time.Second)
			if err != nil {
				fmt.Fprintf(os.Stderr, "%s, %d calls: %v\n", mode, n, err)
				os.Exit(1)
			}
			fmt.Printf("| %s | %d | %.0f | %.2f | %.1f | %.1f | %.0f | %.3f%% | %d | %.2f / %.2f / %.1f | %s |\n", mode, n, r.pps, r.cpu,
				r.cpu/r.pkts*1e6, 100*r.cpu/r.wall/float64(runtime.NumCPU()), r.rssMiB, 100*r.loss, r.drops, r.p50, r.p95, r.max, loadAvg())
		}
	}
}

// ---- the child: the media server over a scratch database ----

type setup struct {
	URL       string      `json:"url"`
	MediaPort int         `json:"mediaPort"`
	Links     [][2]string `json:"links"` // provider, patient token per call
}

func runSFU(baseline bool) error {
	ctx := context.Background()
	n, _ := strconv.Atoi(os.Getenv("LOADGEN_CALLS"))
	dir, err := os.MkdirTemp("", "loadgen")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	st, err := store.Open(ctx, filepath.Join(dir, "load.db"))
	if err != nil {
		return err
	}
	defer st.Close()
	org := &store.Org{Name: "Load", Slug: "load"}
	if err := st.CreateOrg(ctx, org); err != nil {
		return err
	}
	room := &store.WaitingRoom{Name: "Load", SlotDuration: 3600, Timezone: "UTC", Active: true}
	if err := st.CreateWaitingRoom(ctx, org.ID, room); err != nil {
		return err
	}
	var s setup
	for i := range n {
		p := &store.Patient{ExternalID: fmt.Sprint("p", i), Names: []store.HumanName{{FirstName: "Load", LastName: fmt.Sprint(i)}}, Active: true}
		if err := st.CreatePatient(ctx, org.ID, p); err != nil {
			return err
		}
		a := &store.Appointment{PatientID: p.ID, WaitingRoomID: room.ID}
		if err := st.CreateAppointment(ctx, org.ID, a); err != nil {
			return err
		}
		s.Links = append(s.Links, [2]string{a.ProviderToken, a.PatientToken})
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	vs, err := video.New(video.Config{MediaAddr: "127.0.0.1:0", NoTCP: true, LoopbackCandidates: true, BaselineRelay: baseline},
		video.StoreVisits{Store: st}, log)
	if err != nil {
		return err
	}
	defer vs.Close()
	mux := http.NewServeMux()
	mux.Handle("GET /visit/{token}/ws", vs)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	go http.Serve(ln, mux)
	s.URL = "ws://" + ln.Addr().String()
	s.MediaPort = vs.MediaPort()
	if err := json.NewEncoder(os.Stdout).Encode(s); err != nil {
		return err
	}
	if path := os.Getenv("LOADGEN_CPUPROFILE"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			return err
		}
		pprof.StartCPUProfile(f)
		defer func() { pprof.StopCPUProfile(); f.Close() }()
	}
	signal.Ignore(os.Interrupt)   // the parent decides when the run ends
	io.Copy(io.Discard, os.Stdin) // the parent closes stdin to stop us
	return nil
}

// ---- the parent: peers and measurement ----

type result struct {
	pps, pkts, cpu, wall, rssMiB, loss, p50, p95, max float64
	drops                                             int // datagrams the kernel dropped at the server's media socket
}

const (
	magic      = 0xC11B0C5E
	videoBytes = 1000 // 1.5 Mbit/s = 187.5 packets/s of 1000 bytes
	videoPPS   = 187.5
	audioPPS   = 50
)

func measure(n int, baseline bool, window time.Duration) (*result, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	args := []string{"-sfu"}
	if baseline {
		args = append(args, "-baseline")
	}
	cmd := exec.Command(exe, args...)
	cmd.Env = append(os.Environ(), "LOADGEN_CALLS="+strconv.Itoa(n), "GOMAXPROCS="+strconv.Itoa(runtime.NumCPU()))
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	defer func() { stdin.Close(); cmd.Wait() }()
	var s setup
	if err := json.NewDecoder(bufio.NewReader(stdout)).Decode(&s); err != nil {
		return nil, fmt.Errorf("child setup: %w", err)
	}

	// A packet counts when its send time falls in the window, whenever it
	// arrives; loss is per received stream, from its sequence numbers.
	var winStart, winEnd atomic.Int64
	winEnd.Store(1<<63 - 1)
	var mu sync.Mutex
	streams := map[uint32]*streamStat{}
	var lat []float64
	onRTP := func(kind string, p *rtp.Packet) {
		if len(p.Payload) < 12 || binary.BigEndian.Uint32(p.Payload) != magic {
			return
		}
		ts := int64(binary.BigEndian.Uint64(p.Payload[4:]))
		st := winStart.Load()
		if st == 0 || ts < st || ts > winEnd.Load() {
			return
		}
		ms := float64(time.Now().UnixNano()-ts) / 1e6
		mu.Lock()
		ss := streams[p.SSRC]
		if ss == nil {
			ss = &streamStat{min: p.SequenceNumber, max: p.SequenceNumber}
			streams[p.SSRC] = ss
		}
		ss.add(p.SequenceNumber)
		if ss.n%4 == 0 { // a sample is enough for the percentiles
			lat = append(lat, ms)
		}
		mu.Unlock()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	var peers []*testpeer.Peer
	defer func() {
		for _, p := range peers {
			p.Close(false)
		}
	}()
	for _, l := range s.Links {
		prov, err := testpeer.Join(ctx, testpeer.Options{URL: s.URL + "/visit/" + l[0] + "/ws", Audio: true, Video: true, OnRTP: onRTP, Light: true})
		if err != nil {
			return nil, err
		}
		pat, err := testpeer.Join(ctx, testpeer.Options{URL: s.URL + "/visit/" + l[1] + "/ws", Audio: true, Video: true, OnRTP: onRTP, Light: true})
		if err != nil {
			return nil, err
		}
		peers = append(peers, prov, pat)
		if err := prov.Send(ctx, video.ClientMessage{Type: "admit", ID: pat.Welcome.ID}); err != nil {
			return nil, err
		}
	}
	for _, p := range peers {
		if err := p.WaitConnected(ctx); err != nil {
			return nil, err
		}
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for _, p := range peers {
		wg.Add(1)
		go func() { defer wg.Done(); send(p, stop) }()
	}
	time.Sleep(3 * time.Second) // warm-up: every track forwarded, keyframes asked
	cpu0, _ := cpuSeconds(cmd.Process.Pid)
	drops0 := udpDrops(s.MediaPort)
	t0 := time.Now()
	winStart.Store(t0.UnixNano())
	time.Sleep(window)
	t1 := time.Now()
	winEnd.Store(t1.UnixNano())
	cpu1, _ := cpuSeconds(cmd.Process.Pid)
	rss, _ := rssMiB(cmd.Process.Pid)
	drops := udpDrops(s.MediaPort) - drops0
	time.Sleep(500 * time.Millisecond) // packets in flight at the end arrive
	close(stop)
	wg.Wait()

	wall := t1.Sub(t0).Seconds()
	r := &result{cpu: cpu1 - cpu0, wall: wall, rssMiB: rss, drops: drops}
	mu.Lock()
	defer mu.Unlock()
	var got, want float64
	for _, ss := range streams {
		got += float64(ss.n)
		want += float64(ss.max - ss.min + 1)
	}
	if len(streams) != 4*n {
		fmt.Fprintf(os.Stderr, "warning: %d calls: %d streams received in the window, want %d\n", n, len(streams), 4*n)
	}
	r.pkts = got
	r.pps = got / wall
	if want > 0 {
		r.loss = max(0, 1-got/want)
	}
	slices.Sort(lat)
	if len(lat) > 0 {
		r.p50, r.p95, r.max = lat[len(lat)/2], lat[len(lat)*95/100], lat[len(lat)-1]
	}
	return r, nil
}

// streamStat follows one received stream's sequence numbers (a window of
// a few thousand packets never wraps them twice).
type streamStat struct {
	min, max uint16
	n        int64
}

func (s *streamStat) add(seq uint16) {
	s.n++
	if int16(seq-s.max) > 0 {
		s.max = seq
	}
	if int16(seq-s.min) < 0 {
		s.min = seq
	}
}

// send paces one peer's camera and microphone: every 20 ms an Opus packet
// and the video packets due, each stamped with its send time. Only packets
// sent inside the window count towards the loss.
func send(p *testpeer.Peer, stop <-chan struct{}) {
	vbuf := make([]byte, videoBytes)
	abuf := make([]byte, 80)
	var vseq, aseq uint16
	var vts, ats uint32
	due := 0.0
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	stamp := func(b []byte) {
		binary.BigEndian.PutUint32(b, magic)
		binary.BigEndian.PutUint64(b[4:], uint64(time.Now().UnixNano()))
	}
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		stamp(abuf)
		aseq++
		ats += 960
		p.WriteAudio(&rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: aseq, Timestamp: ats}, Payload: abuf})
		due += videoPPS / audioPPS
		vts += 1800
		for ; due >= 1; due-- {
			stamp(vbuf)
			vseq++
			p.WriteVideo(&rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: vseq, Timestamp: vts, Marker: due < 2}, Payload: vbuf})
		}
	}
}

// cpuSeconds is a process's user+system CPU time, from /proc.
func cpuSeconds(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (ut + st) / 100, nil // USER_HZ is 100 on Linux
}

func rssMiB(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			kb, _ := strconv.ParseFloat(strings.Fields(line)[1], 64)
			return kb / 1024, nil
		}
	}
	return 0, fmt.Errorf("no VmRSS")
}

// udpDrops is the kernel's count of datagrams dropped at the UDP socket on
// port (a full receive buffer: the server did not read in time).
func udpDrops(port int) int {
	total := 0
	for _, f := range []string{"/proc/net/udp", "/proc/net/udp6"} {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n")[1:] {
			fs := strings.Fields(line)
			if len(fs) < 13 {
				continue
			}
			local := fs[1]
			p, err := strconv.ParseInt(local[strings.LastIndexByte(local, ':')+1:], 16, 32)
			if err != nil || int(p) != port {
				continue
			}
			d, _ := strconv.Atoi(fs[len(fs)-1])
			total += d
		}
	}
	return total
}

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Fields(string(b))[0]
}
