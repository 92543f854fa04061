package astm_test

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"

	"github.com/clinicbox/clinicbox/devices/astm"
)

func fiftyResults() []byte {
	var b strings.Builder
	b.WriteString("H|\\^&|||CX300^2.1.4^SN48213|||||CLINICBOX||P|LIS2-A2|20250314093012\r")
	b.WriteString("P|1|PAT-100234|L-55120||Mustermann^Erika^A||19780512|F\r")
	b.WriteString("O|1|S24031401||^^^GLU|R|20250314081500|20250314082000||||N||||SER||||||||||F\r")
	for i := 1; i <= 50; i++ {
		fmt.Fprintf(&b, "R|%d|^^^T%02d^Test %d|%d,%02d|mmol/L|3,9-5,5|N||F||opA|20250314092001|20250314092955|CX300\r", i, i, i, i, i)
	}
	b.WriteString("L|1|N\r")
	return []byte(b.String())
}

func BenchmarkParse50Results(b *testing.B) {
	text := fiftyResults()
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		m, err := astm.Parse(text)
		if err != nil || len(m.Patients[0].Orders[0].Results) != 50 {
			b.Fatal(err)
		}
	}
}

// BenchmarkReceiverThroughput pushes the 50-result message through the
// full link layer (ENQ, 240-byte frames each ACKed, EOT) between two Links
// over an in-memory pipe; bytes/s counts the wire bytes the receiver read.
func BenchmarkReceiverThroughput(b *testing.B) {
	text := fiftyResults()
	host, inst := net.Pipe()
	defer host.Close()
	defer inst.Close()
	rx := astm.NewLink(host, astm.Config{})
	tx := astm.NewLink(inst, astm.Config{})
	defer rx.Close()
	defer tx.Close()
	ctx := context.Background()
	wire := 0
	for _, f := range astm.SplitFrames(text, 0) {
		wire += len(astm.AppendFrame(nil, f))
	}
	b.SetBytes(int64(wire + 2)) // frames plus ENQ and EOT
	b.ReportAllocs()
	for b.Loop() {
		errc := make(chan error, 1)
		go func() { errc <- tx.Send(ctx, text) }()
		tr, err := rx.Receive(ctx)
		if err != nil || len(tr.Text) != len(text) {
			b.Fatal(err)
		}
		if err := <-errc; err != nil {
			b.Fatal(err)
		}
	}
}
