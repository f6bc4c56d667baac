// Package networks is lesson 12 in code: Docker's networks for
// mini-docker, each a bridge with its own subnet.
//
//	bridge (built in)   mini-docker0    172.18.0.0/16   the default, as docker0
//	app    (created)    mdbr-1a2b3c4d5e 172.19.0.0/16   `mini-docker network create app`
//
// A network is a record in <root>/networks/ID.json, in the shape `docker
// network inspect` prints (moby's own types); its bridge is made when
// the first container joins it, and its addresses are leased from
// vethctl's pool (<root>/network/SUBNET/). The kernel side is vethctl's:
// the bridge, the veths, and the firewall rules (firewall.go here decides
// which networks need rules: those whose bridge exists; the rules come
// and go with the bridge).
package networks
