package main

import (
	"context"
	"errors"
	"fmt"
	"text/tabwriter"

	"github.com/clinicbox/clinicbox/store"
)

var lisCmd = subcommand("lis", map[string]func(context.Context, env, []string) error{
	"add": lisAdd, "list": lisList, "remove": lisRemove,
})

// lisAdd configures a LIS that receives results as HL7 v2 ORU^R01 over
// MLLP. A running server starts sending to it within seconds.
func lisAdd(ctx context.Context, e env, args []string) error {
	fs := newFlagSet("lis add", e)
	data := fs.data()
	org := fs.org()
	d := &store.LISDestination{}
	fs.FlagSet.StringVar(&d.Name, "name", "", "a short name for the destination, without spaces (required)")
	fs.FlagSet.StringVar(&d.Host, "host", "", "the LIS's host name or address (required)")
	fs.FlagSet.IntVar(&d.Port, "port", 0, "the LIS's MLLP port (required)")
	fs.FlagSet.BoolVar(&d.TLS, "tls", false, "connect with TLS (MLLP over TLS)")
	fs.FlagSet.StringVar(&d.HL7Version, "hl7-version", "2.5.1", "HL7 version written in MSH-12")
	fs.FlagSet.StringVar(&d.Send, "send", "result", "result: each final result as it arrives; encounter: all results of an encounter when it is completed")
	fs.FlagSet.BoolVar(&d.MatchedOnly, "matched-only", false, "leave out results not matched to a patient (by default they are sent with the analyser's specimen id and patient fields)")
	fs.FlagSet.StringVar(&d.ReceivingApp, "receiving-app", "", "MSH-5 receiving application")
	fs.FlagSet.StringVar(&d.ReceivingFacility, "receiving-facility", "", "MSH-6 receiving facility")
	if err := fs.parse(args, 0); err != nil {
		return err
	}
	st, o, err := openOrg(ctx, e, *data, *org)
	if err != nil {
		return err
	}
	defer st.Close()
	ctx = store.WithActor(ctx, store.Actor{OrgID: o.ID, Name: "cli"})
	if err := st.AddLISDestination(ctx, o.ID, d); err != nil {
		return userError(err)
	}
	tls := ""
	if d.TLS {
		tls = " with TLS"
	}
	fmt.Fprintf(e.stdout, "added LIS %q (%s%s, HL7 %s, each %s) to %s; a running server starts sending within seconds\n",
		d.Name, d.Addr(), tls, d.HL7Version, d.Send, o.Slug)
	return nil
}

func lisList(ctx context.Context, e env, args []string) error {
	fs := newFlagSet("lis list", e)
	data := fs.data()
	org := fs.org()
	if err := fs.parse(args, 0); err != nil {
		return err
	}
	st, o, err := openOrg(ctx, e, *data, *org)
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
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tADDRESS\tTLS\tHL7\tSENDS\tMATCHED ONLY\tPENDING")
	for _, d := range ds {
		fmt.Fprintf(tw, "%s\t%s\t%v\t%s\t%s\t%v\t%d\n", d.Name, d.Addr(), d.TLS, d.HL7Version, d.Send, d.MatchedOnly, pending[d.ID])
	}
	return tw.Flush()
}

func lisRemove(ctx context.Context, e env, args []string) error {
	fs := newFlagSet("lis remove", e)
	data := fs.data()
	org := fs.org()
	fs.Usage = func() { fmt.Fprintln(e.stderr, "usage: clinicbox lis remove [--org SLUG] NAME") }
	if err := fs.parse(args, 1); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("lis remove: name the destination")
	}
	st, o, err := openOrg(ctx, e, *data, *org)
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
