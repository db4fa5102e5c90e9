import { GetAccountCommand, type SESv2Client } from '@aws-sdk/client-sesv2';
import MailComposer from 'nodemailer/lib/mail-composer';
import { SES_REGIONS } from '../lambdas/domain/ses-regions';
import { isImplicitTlsPort, smtpEndpoint } from '../lambdas/domain/smtp';
import {
  type LayerOutcome,
  type LayerReport,
  layerReporter,
  openAuthenticatedSession,
  probeSmtp,
  type SmtpLayer,
  type SmtpProbeOptions,
} from '../lambdas/domain/smtp-probe';
import { findIdentity, type SenderTarget } from './sender-audit';

/**
 * `ssg smtp check`: the probe's DNS, TCP, TLS and AUTH layers, then (with `--from`) whether SES in the region would
 * accept the sender, asked of the SES API so that no mail is sent, and (with `--send-test`) one message through the
 * endpoint to the SES mailbox simulator. Stops at the first layer that does not pass.
 */

/** The SES mailbox simulator's address that accepts a message as delivered (no real mailbox, no reputation effect). */
export const SIMULATOR_SUCCESS = 'success@simulator.amazonses.com';

export interface SmtpCheckOptions extends SmtpProbeOptions {
  /** The sender to check (`--from`). */
  readonly sender?: SenderTarget;
  readonly sendTest: boolean;
  /** An SES v2 client for a region (for the sender layer), or an error saying why none can be had. */
  readonly ses?: (region: string) => SESv2Client;
  readonly sesUnavailable?: string;
  /** Regions to look for the sender's identity in when this region lacks it. */
  readonly otherRegions: readonly string[];
}

export interface SmtpCheckReport {
  readonly region: string;
  readonly server: string;
  readonly port: number;
  readonly tls: 'STARTTLS' | 'implicit TLS';
  readonly endpoint?: string;
  readonly username: string;
  readonly layers: readonly LayerReport[];
  /** Layers not reached because an earlier one did not pass. */
  readonly notReached: readonly SmtpLayer[];
  readonly outcome: LayerOutcome;
}

export async function runSmtpCheck(options: SmtpCheckOptions): Promise<SmtpCheckReport> {
  const probe = await probeSmtp(options);
  const layers = [...probe.layers];
  const planned: SmtpLayer[] = ['dns', 'tcp', 'tls', 'auth'];
  if (options.sender !== undefined) planned.push('sender');
  if (options.sendTest) planned.push('send-test');
  if (probe.passed && options.sender !== undefined) {
    const sender = await checkSender(options, options.sender);
    layers.push(sender);
    if (sender.outcome === 'pass' && options.sendTest) layers.push(await sendTest(options, options.sender));
  }
  const failed = layers.find((l) => l.outcome !== 'pass');
  return {
    region: options.region,
    server: smtpEndpoint(options.region),
    port: options.port,
    tls: isImplicitTlsPort(options.port) ? 'implicit TLS' : 'STARTTLS',
    ...(options.endpoint !== undefined ? { endpoint: `${options.endpoint.host}:${options.endpoint.port}` } : {}),
    username: options.username,
    layers,
    notReached: planned.filter((layer) => !layers.some((l) => l.layer === layer)),
    outcome: failed?.outcome ?? 'pass',
  };
}

/** Whether an identity covering the sender is verified for sending in this region (and, if not, where it is). */
async function checkSender(options: SmtpCheckOptions, sender: SenderTarget): Promise<LayerReport> {
  const report = layerReporter('sender');
  const ses = options.ses;
  if (ses === undefined) {
    return report({
      outcome: 'unchecked',
      evidence: [`SES API not reachable: ${options.sesUnavailable ?? 'no client'}`],
      cause: 'sender-unchecked',
      diagnosis:
        'the sender is checked with the SES API (GetEmailIdentity) using your AWS credentials; give credentials that may read SES identities, or use --send-test to try it through SMTP.',
    });
  }
  const verifiedIn = async (region: string): Promise<{ name: string; verified: boolean } | null> => {
    const found = await findIdentity(ses(region), sender.candidates);
    return found ? { name: found.name, verified: found.out.VerifiedForSendingStatus === true } : null;
  };
  let here: Awaited<ReturnType<typeof verifiedIn>>;
  try {
    here = await verifiedIn(options.region);
  } catch (error) {
    return report({
      outcome: 'unchecked',
      evidence: [`GetEmailIdentity in ${options.region}: ${(error as Error).name}: ${(error as Error).message}`.slice(0, 300)],
      cause: 'sender-unchecked',
      diagnosis: `SES in ${options.region} could not be asked about the sender (credentials, permissions or network); nothing is known either way.`,
    });
  }
  const evidence: string[] = [];
  if (here?.verified) {
    evidence.push(`${here.name} is verified for sending in ${options.region}, so SES accepts ${sender.sender} as a sender there`);
    const sandbox = await ses(options.region)
      .send(new GetAccountCommand({}))
      .then((account) => account.ProductionAccessEnabled === false)
      .catch(() => false);
    if (sandbox)
      evidence.push(
        `the account is in the SES sandbox in ${options.region}: it sends only to verified addresses and the mailbox simulator`,
      );
    return report({ outcome: 'pass', evidence });
  }
  evidence.push(
    here
      ? `${here.name} exists in ${options.region} but is not verified for sending`
      : `no identity in ${options.region} covers ${sender.sender} (tried ${sender.candidates.join(', ')})`,
  );
  const elsewhere: string[] = [];
  for (const region of options.otherRegions.filter((r) => r !== options.region)) {
    const there = await verifiedIn(region).catch(() => null);
    if (there?.verified) elsewhere.push(`${region} (${there.name})`);
  }
  if (elsewhere.length > 0) evidence.push(`verified for sending in ${elsewhere.join(', ')}`);
  return report({
    outcome: 'fail',
    evidence,
    cause: 'sender-not-verified',
    diagnosis:
      `SES in ${options.region} would refuse mail from ${sender.sender} after DATA ("554 Message rejected: Email address is not verified"): identities are verified per region` +
      (elsewhere.length > 0
        ? `, and this one is verified only in ${elsewhere.map((e) => e.split(' ')[0]).join(', ')}. Verify it in ${options.region}, or point the relay at a region where it is verified.`
        : `. Verify ${sender.domain} (or the address) in ${options.region}.`),
  });
}

/** Sends one message from the sender to the mailbox simulator through the endpoint. */
async function sendTest(options: SmtpCheckOptions, sender: SenderTarget): Promise<LayerReport> {
  const report = layerReporter('send-test');
  const session = await openAuthenticatedSession(options);
  const connection = session.connection;
  if (connection === undefined) {
    const failed = session.layers.find((l) => l.outcome !== 'pass');
    return report({
      outcome: 'unchecked',
      evidence: failed?.evidence ?? [],
      cause: 'send-unavailable',
      diagnosis: 'a second session for the test message could not be opened; run again.',
    });
  }
  const raw = await new MailComposer({
    from: sender.sender,
    to: SIMULATOR_SUCCESS,
    subject: 'ssg smtp check: test message',
    text: `A test message from ssg smtp check, sent through ${smtpEndpoint(options.region)} to the SES mailbox simulator.\r\n`,
    headers: { 'X-Ssg-Smtp-Check': '1' },
  })
    .compile()
    .build();
  const outcome = await new Promise<{ error?: unknown; response?: string }>((resolve) => {
    connection.send({ from: sender.sender, to: [SIMULATOR_SUCCESS] }, raw, (error, info) =>
      resolve(error ? { error } : { response: info?.response }),
    );
  });
  connection.quit();
  if (outcome.error === undefined) {
    return report({ outcome: 'pass', evidence: [`sent to ${SIMULATOR_SUCCESS}: ${outcome.response ?? '250'}`.slice(0, 300)] });
  }
  const responseCode = (outcome.error as { responseCode?: unknown }).responseCode;
  const response = String((outcome.error as { response?: unknown }).response ?? (outcome.error as Error).message).slice(0, 300);
  const notVerified = /not verified/i.test(response);
  return report({
    outcome: typeof responseCode === 'number' && responseCode >= 500 ? 'fail' : 'unchecked',
    evidence: [`sending to ${SIMULATOR_SUCCESS}: ${response}`],
    cause: typeof responseCode === 'number' && responseCode >= 500 ? 'send-rejected' : 'send-unavailable',
    diagnosis: notVerified
      ? `SES refused the sender in ${options.region}: the identity must be verified in this region.`
      : 'SES did not accept the test message; its reply above says why.',
  });
}

/** The regions to derive a password for when naming the one it was made for. */
export const DERIVATION_REGIONS: readonly string[] = SES_REGIONS;
