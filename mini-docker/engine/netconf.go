package engine

import "mini-docker/vethctl/network"

// ConfigureNetns sets, inside the network namespace at nsPath, the
// sysctls Docker sets for every container and, for --network none, lo
// up (network.ConfigureContainerNetns).
func ConfigureNetns(nsPath string, none bool) error {
	return network.ConfigureContainerNetns(nsPath, none)
}
