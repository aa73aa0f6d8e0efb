/* acrn-ivshmem-config: the IVSHMEM section of ACRN scenario files, from scripts. See cli.c. */
#include <stdio.h>

#include <libxml/parser.h>

#include "cli.h"

int main(int argc, char **argv)
{
	int rc;

	LIBXML_TEST_VERSION;
	rc = cli_main(argc, argv, stdout, stderr);
	xmlCleanupParser();
	if (fflush(stdout) != 0) {
		perror("acrn-ivshmem-config: writing the output");
		return CLI_FAILED;
	}
	return rc;
}
