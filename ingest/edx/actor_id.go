package edx

import "fmt"

// ActorID is the actor IRI this transformer gives the user named by user (a
// numeric user id or a username) in every event it maps: from the actor
// map, else the keyed hash with the actor secret. lrs erase --edx-user uses
// it, so that a retirement job needs the user's id or name and nothing of
// the mapping. An event that logged only the username got the IRI of the
// username, one with a user id that of the id: erase both.
func (t *Transformer) ActorID(user string) (string, error) {
	p, err := t.person(user)
	if err != nil {
		return "", err
	}
	id, ok := p["id"].(string)
	if !ok {
		return "", fmt.Errorf("user %q: no actor id", user)
	}
	return id, nil
}
