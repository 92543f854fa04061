package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/clinicbox/clinicbox/store"
)

var lisCmd = subcommand("lis", map[string]func(context.Context, env, []string) error{
	"add": lisAdd, "list": lisList, "remove": lisRemove,
})

// lisAdd configures a LIS that receives results as HL7 v2 ORU^R01 over
// MLLP. A running server starts sending to it within seconds.
func lisAdd(ctx context.Context, e env, args []string) error {
	fs := newOrgFlagSet("lis add", e)
	d := &store.LISDestination{}
	fs.FlagSet.StringVar(&d.Name, "name", "", "a short name for the destination, without spaces (required)")
	fs.FlagSet.StringVar(&d.Host, "host", "", "the LIS's host name or address (required)")
	fs.FlagSet.IntVar(&d.Port, "port", 0, "the LIS's MLLP port (required)")
	fs.FlagSet.BoolVar(&d.TLS, "tls", false, "connect with TLS (MLLP over TLS); the LIS's certificate is checked against the system's roots unless --ca or --pin says otherwise")
	caFile := fs.FlagSet.String("ca", "", "with --tls: PEM file of the CA that signs the LIS's certificate (a hospital's own CA); the host name is checked too")
	fs.FlagSet.StringVar(&d.TLSPin, "pin", "", "with --tls: the SHA-256 fingerprint of the LIS's certificate (openssl x509 -noout -fingerprint -sha256), for a self-signed one")
	fs.FlagSet.StringVar(&d.HL7Version, "hl7-version", "2.5.1", "HL7 version written in MSH-12")
	fs.FlagSet.StringVar(&d.Send, "send", "result", "result: each final result as it arrives; encounter: all results of an encounter when it is completed")
	fs.FlagSet.BoolVar(&d.MatchedOnly, "matched-only", false, "leave out results not matched to a patient (by default they are sent with the analyser's specimen id and patient fields)")
	fs.FlagSet.StringVar(&d.ReceivingApp, "receiving-app", "", "MSH-5 receiving application")
	fs.FlagSet.StringVar(&d.ReceivingFacility, "receiving-facility", "", "MSH-6 receiving facility")
	st, o, err := fs.openOrg(ctx, args, 0)
	if err != nil {
		return err
	}
	defer st.Close()
	if *caFile != "" {
		pem, err := os.ReadFile(*caFile)
		if err != nil {
			return fmt.Errorf("lis add: --ca: %w", err)
		}
		d.TLSCA = string(pem)
	}
	ctx = store.WithActor(ctx, store.Actor{OrgID: o.ID, Name: "cli"})
	if err := st.AddLISDestination(ctx, o.ID, d); err != nil {
		return userError(err)
	}
	tls := ""
	if d.TLS {
		tls = " with TLS, trusting " + d.Trust()
	}
	fmt.Fprintf(e.stdout, "added LIS %q (%s%s, HL7 %s, each %s) to %s; a running server starts sending within seconds\n",
		d.Name, d.Addr(), tls, d.HL7Version, d.Send, o.Slug)
	return nil
}

func lisList(ctx context.Context, e env, args []string) error {
	fs := newOrgFlagSet("lis list", e)
	st, o, err := fs.openOrg(ctx, args, 0)
	if err != nil {
		return err
	}
	defer st.Close()
	ds, err := st.LISDestinations(ctx, o.ID)
	if err != nil {
		return err
	}
	msgs, err := st.LISMessages(ctx, o.ID, 1000)
	if err != nil {
		return err
	}
	pending := map[int64]int{}
	for _, m := range msgs {
		if m.Status == store.LISPending {
			pending[m.DestinationID]++
		}
	}
	t := newTable(e.stdout, "NAME", "ADDRESS", "TLS", "HL7", "SENDS", "MATCHED ONLY", "PENDING")
	for _, d := range ds {
		tls := "no"
		if d.TLS {
			tls = d.Trust()
		}
		t.row(d.Name, d.Addr(), tls, d.HL7Version, d.Send, d.MatchedOnly, pending[d.ID])
	}
	return t.flush()
}

func lisRemove(ctx context.Context, e env, args []string) error {
	fs := newOrgFlagSet("lis remove", e)
	fs.Usage = func() { fmt.Fprintln(e.stderr, "usage: clinicbox lis remove [--org SLUG] NAME") }
	st, o, err := fs.openOrgWith(ctx, args, 1, "lis remove: name the destination")
	if err != nil {
		return err
	}
	defer st.Close()
	ctx = store.WithActor(ctx, store.Actor{OrgID: o.ID, Name: "cli"})
	if err := st.RemoveLISDestination(ctx, o.ID, fs.Arg(0)); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("lis remove: no destination named %q in %s", fs.Arg(0), o.Slug)
		}
		return userError(err)
	}
	fmt.Fprintf(e.stdout, "removed LIS %q; nothing more is sent to it\n", fs.Arg(0))
	return nil
}
