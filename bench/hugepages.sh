# Huge pages for one benchmark run, sourced by run-bench.sh: huge_reserve reserves 2 MiB pages
# and mounts hugetlbfs; run-bench.sh's cleanup unmounts it and gives back exactly the pages
# added (HUGE_ADDED), so whatever was reserved before the run stays reserved.

HUGE_NOTE=

# huge_reserve PAGES DIR: 0 with HUGE_DIR set to a hugetlbfs mount and at least PAGES free
# 2 MiB pages; 1 with HUGE_NOTE saying why not.
huge_reserve() {
	local need=$1 dir=$2 size free total
	size=$(awk '/^Hugepagesize:/ { print $2 }' /proc/meminfo)
	if [ "$size" != 2048 ]; then
		HUGE_NOTE="the default huge page size is ${size:-unknown} kB, not 2048"
		return 1
	fi
	if [ "$(id -u)" -ne 0 ]; then
		HUGE_NOTE="reserving huge pages needs root"
		return 1
	fi
	free=$(awk '/^HugePages_Free:/ { print $2 }' /proc/meminfo)
	if [ "$free" -lt "$need" ]; then
		total=$(cat /proc/sys/vm/nr_hugepages)
		echo $((total + need - free)) >/proc/sys/vm/nr_hugepages 2>/dev/null
		HUGE_ADDED=$(($(cat /proc/sys/vm/nr_hugepages) - total))
		[ "$HUGE_ADDED" -ge 0 ] || HUGE_ADDED=0
		free=$(awk '/^HugePages_Free:/ { print $2 }' /proc/meminfo)
		if [ "$free" -lt "$need" ]; then
			HUGE_NOTE="only $free of the $need huge pages needed could be reserved"
			return 1
		fi
	fi
	mkdir -p "$dir"
	if ! mount -t hugetlbfs -o pagesize=2M none "$dir" 2>/dev/null; then
		HUGE_NOTE="hugetlbfs cannot be mounted"
		return 1
	fi
	HUGE_DIR=$dir
}
