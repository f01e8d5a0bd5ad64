package rocketmq

// splitInOrder splits a received batch into runs by key (a FIFO message group): each
// run holds one key's messages in batch order, and the runs come in the order of
// their first messages. A driver handles a run one message after the other and the
// runs concurrently, which keeps each group's order while groups do not wait for each
// other.
func splitInOrder[M any, K comparable](msgs []M, key func(M) K) [][]M {
	idx := make(map[K]int)
	var runs [][]M
	for _, m := range msgs {
		k := key(m)
		i, ok := idx[k]
		if !ok {
			i = len(runs)
			idx[k] = i
			runs = append(runs, nil)
		}
		runs[i] = append(runs[i], m)
	}
	return runs
}
