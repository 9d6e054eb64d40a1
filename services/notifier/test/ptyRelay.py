# A real pseudo-terminal for a notifier test, as a login session would have one:
#   python3 ptyRelay.py <user>
# Opens a pty, gives its slave to <user> with mode 0620 (mesg y), prints the slave's path, then
# copies whatever is written to the terminal to stdout until it is killed.
import os
import pwd
import sys

master, slave = os.openpty()
name = os.ttyname(slave)
os.chown(name, pwd.getpwnam(sys.argv[1]).pw_uid, -1)
os.chmod(name, 0o620)
print(name, flush=True)
while True:
    data = os.read(master, 4096)
    if not data:
        break
    sys.stdout.write(data.decode(errors='replace'))
    sys.stdout.flush()
