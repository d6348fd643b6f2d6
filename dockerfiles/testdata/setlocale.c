/* Usage: setlocale LOCALE...
 * Prints what setlocale(LC_ALL, LOCALE) returns for each LOCALE, one a line ("(null)" when it
 * fails). Built with musl-gcc -static by the locale test, to show what musl, the C library of
 * the fpm-alpine image, does without any locale files. */
#include <locale.h>
#include <stdio.h>

int main(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        const char *name = setlocale(LC_ALL, argv[i]);
        printf("%s\n", name ? name : "(null)");
    }
    return 0;
}
