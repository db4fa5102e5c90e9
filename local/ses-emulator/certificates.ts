import { generateKeyPairSync, randomBytes } from 'node:crypto';
import forge from 'node-forge';

/**
 * The emulator's TLS material: a throwaway CA made at start, and for each region a server certificate for SES's SMTP
 * host name `email-smtp.<region>.amazonaws.com` (also `localhost` and `127.0.0.1`) signed by it. A client trusts the
 * CA (`ca` option or `NODE_EXTRA_CA_CERTS`) and verifies the certificate with the real host name as servername.
 * Keys come from node's crypto; node-forge builds and signs the certificates.
 */
export interface ServerCertificate {
  readonly key: string;
  readonly cert: string;
}

/** A CA that issues server certificates. */
export class LocalCertificateAuthority {
  /** The CA certificate (PEM). */
  readonly certPem: string;
  private readonly caCert: forge.pki.Certificate;
  private readonly caKey: forge.pki.rsa.PrivateKey;
  private readonly serverKeyPem: string;
  private readonly serverPublic: forge.pki.rsa.PublicKey;

  constructor(commonName = 'SES emulator local CA') {
    const ca = rsaKeyPair();
    this.caKey = forge.pki.privateKeyFromPem(ca.privateKey) as forge.pki.rsa.PrivateKey;
    const cert = forge.pki.createCertificate();
    cert.publicKey = forge.pki.publicKeyFromPem(ca.publicKey);
    setValidity(cert);
    const subject = [{ name: 'commonName', value: commonName }];
    cert.setSubject(subject);
    cert.setIssuer(subject);
    cert.setExtensions([
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
      { name: 'subjectKeyIdentifier' },
    ]);
    cert.sign(this.caKey, forge.md.sha256.create());
    this.caCert = cert;
    this.certPem = forge.pki.certificateToPem(cert);
    // One key for every server certificate: generating keys is the slow part, and these never leave the machine.
    const server = rsaKeyPair();
    this.serverKeyPem = server.privateKey;
    this.serverPublic = forge.pki.publicKeyFromPem(server.publicKey);
  }

  /** A server certificate for `hostName`, with `localhost` and `127.0.0.1` as further names. */
  issue(hostName: string): ServerCertificate {
    const cert = forge.pki.createCertificate();
    cert.publicKey = this.serverPublic;
    setValidity(cert);
    cert.setSubject([{ name: 'commonName', value: hostName }]);
    cert.setIssuer(this.caCert.subject.attributes);
    cert.setExtensions([
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: hostName },
          { type: 2, value: 'localhost' },
          { type: 7, ip: '127.0.0.1' },
        ],
      },
      { name: 'authorityKeyIdentifier', keyIdentifier: this.caCert.generateSubjectKeyIdentifier().getBytes() },
    ]);
    cert.sign(this.caKey, forge.md.sha256.create());
    return { key: this.serverKeyPem, cert: forge.pki.certificateToPem(cert) };
  }
}

function rsaKeyPair(): { publicKey: string; privateKey: string } {
  return generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
}

function setValidity(cert: forge.pki.Certificate): void {
  // A positive serial number (high bit clear), valid from an hour ago (clock skew) for a year.
  cert.serialNumber = `01${randomBytes(15).toString('hex')}`;
  const now = Date.now();
  cert.validity.notBefore = new Date(now - 60 * 60 * 1000);
  cert.validity.notAfter = new Date(now + 365 * 24 * 60 * 60 * 1000);
}
