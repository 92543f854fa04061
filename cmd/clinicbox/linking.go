package main

import (
	"context"
	"fmt"
)

// linkingSecretCmd prints (and with --rotate first replaces) an
// organisation's context-aware linking secret: the shared secret an EHR uses
// to encrypt the ?arg= of /integrations/linking.
func linkingSecretCmd(ctx context.Context, e env, args []string) error {
	fs := newOrgFlagSet("linking-secret", e)
	rotate := fs.FlagSet.Bool("rotate", false, "replace the secret with a new one first (links made with the old one stop working)")
	st, o, err := fs.openOrg(ctx, args, 0)
	if err != nil {
		return err
	}
	defer st.Close()
	secret := o.LinkingSecret
	if *rotate {
		if secret, err = st.RotateLinkingSecret(ctx, o.ID); err != nil {
			return fmt.Errorf("rotate linking secret: %w", err)
		}
		fmt.Fprintf(e.stderr, "rotated the linking secret of %s\n", o.Slug)
	}
	fmt.Fprintln(e.stdout, secret)
	return nil
}
