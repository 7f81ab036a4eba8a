package depttest

import (
	"encoding/json"
	"net/http"
	"strconv"
)

func jsonDecode(resp *http.Response, v any) error {
	defer resp.Body.Close()
	return json.NewDecoder(resp.Body).Decode(v)
}

// ObjectCount is the number of objects of collection that node nd holds
// itself (over its shard replicas), as its nodes API reports it.
func (c *Cluster) ObjectCount(nd *Node, collection string) (int, error) {
	resp, err := http.Get("http://127.0.0.1:" + strconv.Itoa(nd.HTTP) + "/v1/nodes/" + collection + "?output=verbose")
	if err != nil {
		return 0, err
	}
	var st struct {
		Nodes []struct {
			Name   string `json:"name"`
			Shards []struct {
				Class       string `json:"class"`
				ObjectCount int    `json:"objectCount"`
			} `json:"shards"`
		} `json:"nodes"`
	}
	if err := jsonDecode(resp, &st); err != nil {
		return 0, err
	}
	n := 0
	for _, x := range st.Nodes {
		if x.Name != nd.Name {
			continue
		}
		for _, s := range x.Shards {
			if s.Class == collection {
				n += s.ObjectCount
			}
		}
	}
	return n, nil
}
