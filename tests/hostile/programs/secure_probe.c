/* Prints whether this process runs in secure mode (AT_SECURE) and whether
 * a library whose path contains `libtaskleak` is mapped.  Run setgid with
 * LD_PRELOAD=.../libtaskleak.so: the loader must have ignored it. */
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>

int main(void)
{
    char line[4096];
    int mapped = 0;
    FILE *f = fopen("/proc/self/maps", "r");
    while (f && fgets(line, sizeof line, f))
        mapped |= strstr(line, "libtaskleak") != NULL;
    if (f)
        fclose(f);
    printf("at_secure=%lu mapped=%d\n", getauxval(AT_SECURE), mapped);
    return 0;
}
