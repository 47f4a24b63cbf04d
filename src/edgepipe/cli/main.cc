#include <cstdio>
int main() { std::puts("edgepipe"); return 0; }
