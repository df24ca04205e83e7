# sshd -E: lines may carry "debug1:".."debug3:", "error:", "fatal:" prefixes (after an optional "PID: " or
# "sshd-session ... " part is NOT present in 9.2); INFO/VERBOSE lines carry no token.
import re
T = {'debug1': 'DEBUG', 'debug2': 'DEBUG', 'debug3': 'DEBUG', 'error': 'ERROR', 'fatal': 'FATAL'}
def label(line):
    m = re.match(r'^(debug[123]|error|fatal): ', line)
    return T[m.group(1)] if m else ''
