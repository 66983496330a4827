package store

import (
	"encoding/json"

	"github.com/google/uuid"
)

type skeletonDoc struct {
	Sensor      string            `json:"sensor"`
	SendTime    string            `json:"sendTime"`
	DataVersion string            `json:"dataVersion"`
	Data        []json.RawMessage `json:"data"`
}

// parseSkeleton returns the envelope and, for each referenced event id, the
// positions in data where it goes.
func parseSkeleton(b []byte) (*skeletonDoc, map[uuid.UUID][]int, error) {
	var env skeletonDoc
	if err := json.Unmarshal(b, &env); err != nil {
		return nil, nil, err
	}
	refs := map[uuid.UUID][]int{}
	for i, item := range env.Data {
		var ref struct {
			Event uuid.UUID `json:"$event"`
		}
		if len(item) > 0 && item[0] == '{' && json.Unmarshal(item, &ref) == nil && ref.Event != uuid.Nil {
			refs[ref.Event] = append(refs[ref.Event], i)
		}
	}
	return &env, refs, nil
}
