#!/usr/bin/python3
"""A throwaway certificate authority for TLS tests, made with the openssl
command: a CA and server certificates it signs for the names given.

    ca = TestCA(folder)
    cert, key = ca.issue('server', ['127.0.0.1', '192.0.2.1', 'localhost'])
    ca.cert                      # the CA's PEM, for clients to trust
    ca.spki_sha256(cert)         # base64 SHA-256 of the key (Chromium's
                                 # --ignore-certificate-errors-spki-list)

Nothing here is trusted by the system: clients trust it only when told.
"""
import base64
import hashlib
import ipaddress
import os
import subprocess


def _openssl(*args, **kw):
    return subprocess.run(['openssl'] + list(args), check=True,
                          capture_output=True, **kw)


class TestCA:
    def __init__(self, folder, name='surveillx test CA'):
        self.folder = folder
        os.makedirs(folder, exist_ok=True)
        self.cert = os.path.join(folder, 'ca.pem')
        self.key = os.path.join(folder, 'ca.key')
        _openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes',
                 '-keyout', self.key, '-out', self.cert, '-days', '2',
                 '-subj', '/CN=' + name,
                 '-addext', 'basicConstraints=critical,CA:TRUE',
                 '-addext', 'keyUsage=critical,keyCertSign,cRLSign')
        self.serial = 1

    def issue(self, name, hosts):
        """(cert path, key path) of a server certificate for @hosts (DNS
        names or IP addresses), signed by this CA."""
        key = os.path.join(self.folder, name + '.key')
        csr = os.path.join(self.folder, name + '.csr')
        cert = os.path.join(self.folder, name + '.pem')
        ext = os.path.join(self.folder, name + '.ext')
        sans = []
        for h in hosts:
            try:
                ipaddress.ip_address(h)
                sans.append('IP:' + h)
            except ValueError:
                sans.append('DNS:' + h)
        with open(ext, 'w') as f:
            f.write('basicConstraints=CA:FALSE\n'
                    'keyUsage=critical,digitalSignature,keyEncipherment\n'
                    'extendedKeyUsage=serverAuth\n'
                    'subjectAltName=%s\n' % ','.join(sans))
        _openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', key,
                 '-out', csr, '-subj', '/CN=' + hosts[0])
        self.serial += 1
        _openssl('x509', '-req', '-in', csr, '-CA', self.cert, '-CAkey',
                 self.key, '-set_serial', str(self.serial), '-days', '2',
                 '-extfile', ext, '-out', cert)
        os.chmod(key, 0o600)
        return cert, key

    @staticmethod
    def spki_sha256(cert):
        pub = _openssl('x509', '-in', cert, '-noout', '-pubkey').stdout
        der = _openssl('pkey', '-pubin', '-outform', 'DER',
                       input=pub).stdout
        return base64.b64encode(hashlib.sha256(der).digest()).decode()
