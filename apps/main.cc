// rocmforge: the command-line entry point; dispatches to one subcommand per file.
int main() { return 0; }
