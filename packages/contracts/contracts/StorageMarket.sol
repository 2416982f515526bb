// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {ShardMerkle} from "./ShardMerkle.sol";

/// @title Cairn storage market
/// @notice One deal = one shard on one host for `duration` periods at a total `price`, escrowed
/// up front; the host locks collateral from its stake for the deal's life.
///
/// Periods are `periodSeconds` long, counted from deployment on block timestamps. A deal runs
/// from the period after it was opened for `duration` periods.
///
/// Randomness: the first market transaction in a period (or `poke()`) records that period's seed
/// from `block.prevrandao` and the previous block's hash. Whether deal `d` is challenged in period
/// `p`, and which leaf, is keccak256(seed_p, d, p). The host cannot know it in advance: the seed
/// does not exist before a block inside period `p` is built. A period nobody seeded is not paid
/// (its share returns to the client), so the host itself wants the seed set and cannot dodge
/// challenges by keeping the market quiet. Residual bias: a block proposer (or an L2 sequencer) can
/// choose whether to include the seeding transaction, i.e. re-roll once per block it controls.
///
/// A challenged period must be proven inside that same period; periods are settled strictly in
/// order, so the challenge probability (which falls with the deal's count of successful proofs, to
/// a floor) is the same whether evaluated at proof time or at settlement.
///
/// Money is pull-based: period payments accrue to the deal (`claim`), refunds, compensation and
/// rewards to `balanceOf` (`withdraw`). Rounding: period i of a deal pays
/// floor(price*(i+1)/duration) - floor(price*i/duration), so the shares sum to the price exactly;
/// the k-th of `maxMisses` misses slashes collateral / (maxMisses - k + 1) of what is left, so the
/// last miss takes the remainder and no collateral dust is left locked.
///
/// Mandates: a client may let a mediator (a service that repairs files while the client is away)
/// open repair deals in its name, up to a budget of the client's tokens and until an expiry. The
/// deals are the client's in every respect (quotes name the client, escrow comes from the client's
/// tokens, refunds and bounties go to the client); the mediator only spends the budget.
contract StorageMarket is EIP712, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    enum Status {
        None,
        Active,
        Completed,
        Ended,
        Failed,
        Repaired
    }

    enum EndReason {
        Completed,
        ClientEnded,
        Missed,
        HostAbandoned
    }

    struct Params {
        uint64 periodSeconds;
        /// misses that end a deal
        uint8 maxMisses;
        /// share of each slash paid to whoever reported the miss
        uint16 reporterBps;
        /// deal collateral = price * collateralBps / 10000
        uint32 collateralBps;
        /// challenge probability of a deal with no successful proofs
        uint16 startBps;
        /// challenge probability never falls below this
        uint16 floorBps;
        /// probability = startBps * halfLife / (halfLife + successes), at least floorBps
        uint32 halfLife;
    }

    /// An EIP-2612 permit for the deposit; `deadline == 0` means use the existing allowance.
    struct Permit {
        uint256 value;
        uint256 deadline;
        uint8 v;
        bytes32 r;
        bytes32 s;
    }

    struct Host {
        uint128 stake;
        uint128 locked;
        uint128 pricePerBytePeriod;
        uint64 activeDeals;
        bool registered;
        bytes peerId;
    }

    /// Field order is the storage layout: a proof reads the first five slots and writes two
    /// (slot 1: settlement state; slot 3: escrow and earnings). The client and size are only read
    /// off the proof path.
    struct Deal {
        // slot 0
        address host;
        uint64 start;
        uint32 duration;
        // slot 1
        /// next period to settle
        uint64 settled;
        /// period + 1 of the last accepted proof (0: none)
        uint64 lastProof;
        uint64 leafCount;
        uint32 successes;
        /// at most 4096 (checked at opening)
        uint16 leafSize;
        Status status;
        uint8 misses;
        // slot 2
        bytes32 root;
        // slot 3
        uint128 escrow;
        uint128 earned;
        // slot 4
        uint128 price;
        uint128 collateral;
        // slot 5
        address client;
        uint64 size;
    }

    /// A client's mandate to one mediator: what it may still spend on repair deals, until when
    /// (unix seconds, inclusive), and the nonce the next signed mandate for the pair must carry.
    struct Mandate {
        uint128 budget;
        uint64 expiry;
        uint64 nonce;
    }

    /// One shard's deal, with the host's signed quote over the same terms.
    struct DealRequest {
        address host;
        bytes32 root;
        uint64 size;
        uint64 leafCount;
        uint32 leafSize;
        uint32 duration;
        uint128 price;
        uint64 expiry;
        uint64 nonce;
        /// a failed deal of the client's whose slot this deal repairs (0: none)
        uint256 repairOf;
        bytes signature;
    }

    bytes32 public constant QUOTE_TYPEHASH =
        keccak256(
            "Quote(address client,address host,bytes32 root,uint64 size,uint64 leafCount,uint32 leafSize,uint32 duration,uint128 price,uint64 expiry,uint64 nonce)"
        );

    bytes32 public constant MANDATE_TYPEHASH =
        keccak256("Mandate(address client,address mediator,uint128 budget,uint64 expiry,uint64 nonce)");

    IERC20 public immutable token;
    uint256 public immutable genesis;
    uint64 public immutable periodSeconds;
    uint8 public immutable maxMisses;
    uint16 public immutable reporterBps;
    uint32 public immutable collateralBps;
    uint16 public immutable startBps;
    uint16 public immutable floorBps;
    uint32 public immutable halfLife;

    uint256 public nextDealId = 1;
    mapping(uint64 period => bytes32) public seeds;
    mapping(address => Host) private _hosts;
    mapping(uint256 => Deal) private _deals;
    mapping(address => uint256) public balanceOf;
    mapping(uint256 dealId => uint256) public repairBounty;
    mapping(address host => mapping(uint256 word => uint256)) private _nonces;
    mapping(address client => mapping(address mediator => Mandate)) private _mandates;

    event SeedSet(uint64 indexed period, bytes32 seed);
    event HostRegistered(address indexed host, bytes peerId, uint128 pricePerBytePeriod, uint128 stake);
    event HostUpdated(address indexed host, bytes peerId, uint128 pricePerBytePeriod);
    event CollateralAdded(address indexed host, uint128 amount, uint128 stake);
    event CollateralWithdrawn(address indexed host, uint128 amount, uint128 stake);
    event HostLeft(address indexed host, uint128 stake);
    event QuoteCancelled(address indexed host, uint64 nonce);
    event DealOpened(
        uint256 indexed dealId,
        address indexed client,
        address indexed host,
        bytes32 root,
        uint64 size,
        uint64 leafCount,
        uint32 leafSize,
        uint64 startPeriod,
        uint32 duration,
        uint128 price,
        uint128 collateral
    );
    event ProofAccepted(uint256 indexed dealId, uint64 indexed period, uint64 leafIndex);
    event Settled(uint256 indexed dealId, uint64 fromPeriod, uint64 toPeriod, uint128 paid, uint128 refunded);
    event Slashed(
        uint256 indexed dealId,
        uint64 indexed period,
        address indexed reporter,
        uint128 reward,
        uint128 compensation,
        uint8 misses
    );
    event DealEnded(uint256 indexed dealId, EndReason reason, uint128 refund);
    event SlotRepaired(uint256 indexed failedDealId, uint256 indexed newDealId, uint256 bounty);
    event BountyReleased(uint256 indexed failedDealId, uint256 bounty);
    event Claimed(address indexed host, uint256 amount);
    event Withdrawn(address indexed account, uint256 amount);
    /// A mandate was granted, replaced or (budget 0) revoked; `nonce` is the pair's next nonce.
    event MandateSet(address indexed client, address indexed mediator, uint128 budget, uint64 expiry, uint64 nonce);
    /// A mediator opened `count` repair deals from `firstDealId` on, spending `spent` of the budget.
    event MandateUsed(
        address indexed client,
        address indexed mediator,
        uint256 firstDealId,
        uint256 count,
        uint128 spent,
        uint128 remaining
    );

    error InvalidParams();
    error AlreadyRegistered();
    error NotRegistered();
    error InsufficientStake(uint256 free, uint256 needed);
    error HasActiveDeals(uint64 count);
    error InvalidShard(uint256 index);
    error QuoteExpired(uint256 index);
    error PriceBelowRate(uint256 index);
    error NonceUsed(address host, uint64 nonce);
    error BadSignature(uint256 index);
    error NotRepairable(uint256 dealId);
    error DealNotActive(uint256 dealId);
    error NotClient(uint256 dealId);
    error NotHost(uint256 dealId);
    error OutsideDeal(uint256 dealId, uint64 period);
    error AlreadyProven(uint256 dealId, uint64 period);
    error NotChallenged(uint256 dealId, uint64 period);
    error InvalidProof(uint256 dealId);
    error PeriodNotClosed(uint64 period);
    error NoMiss(uint256 dealId, uint64 period);
    error NothingToWithdraw();
    error NoMandate(address client, address mediator);
    error MandateExpired(address client, address mediator, uint64 expiry);
    error OverBudget(uint256 budget, uint256 needed);
    error NotARepair(uint256 index);
    error BadMandateSignature();

    constructor(IERC20 token_, Params memory p) EIP712("Cairn StorageMarket", "1") {
        if (
            p.periodSeconds == 0 ||
            p.maxMisses == 0 ||
            p.reporterBps > 10000 ||
            p.startBps > 10000 ||
            p.floorBps > p.startBps ||
            p.halfLife == 0
        ) revert InvalidParams();
        token = token_;
        genesis = block.timestamp;
        periodSeconds = p.periodSeconds;
        maxMisses = p.maxMisses;
        reporterBps = p.reporterBps;
        collateralBps = p.collateralBps;
        startBps = p.startBps;
        floorBps = p.floorBps;
        halfLife = p.halfLife;
    }

    // ---------------------------------------------------------------- periods and randomness

    function currentPeriod() public view returns (uint64) {
        return uint64((block.timestamp - genesis) / periodSeconds);
    }

    function periodStart(uint64 period) external view returns (uint256) {
        return genesis + uint256(period) * periodSeconds;
    }

    /// Records the current period's seed if nobody has yet. Anyone may call it; every market
    /// transaction does it too.
    function poke() external returns (uint64) {
        return _beacon();
    }

    function _beacon() internal returns (uint64 period) {
        period = currentPeriod();
        if (seeds[period] == 0) {
            bytes32 seed = keccak256(abi.encode(block.prevrandao, blockhash(block.number - 1), period));
            if (seed == 0) seed = bytes32(uint256(1));
            seeds[period] = seed;
            emit SeedSet(period, seed);
        }
    }

    /// Challenge probability, in basis points, for a deal with `successes` proven challenges.
    function probabilityBps(uint32 successes) public view returns (uint16) {
        uint256 p = (uint256(startBps) * halfLife) / (uint256(halfLife) + successes);
        return p < floorBps ? floorBps : uint16(p);
    }

    function _challenge(
        bytes32 seed,
        uint256 dealId,
        uint64 period,
        uint32 successes,
        uint64 leafCount
    ) internal view returns (bool challenged, uint64 leafIndex) {
        uint256 r = uint256(keccak256(abi.encode(seed, dealId, period)));
        challenged = r % 10000 < probabilityBps(successes);
        leafIndex = uint64((r >> 128) % leafCount);
    }

    /// The challenge of deal `dealId` in `period`, as the host daemon needs it: whether the period
    /// is seeded yet, whether the deal is challenged, the leaf to prove, and the probability used.
    function challengeFor(
        uint256 dealId,
        uint64 period
    ) external view returns (bool seeded, bool challenged, uint64 leafIndex, uint16 probability) {
        Deal storage d = _deals[dealId];
        if (d.status == Status.None) revert DealNotActive(dealId);
        uint32 successes = d.successes;
        // Settlement is lazy: count the proven challenges of closed but unsettled periods.
        for (uint64 q = d.settled; q < period && q < d.start + d.duration; ++q) {
            bytes32 s = seeds[q];
            if (s == 0) continue;
            (bool ch, ) = _challenge(s, dealId, q, successes, d.leafCount);
            if (ch && d.lastProof == q + 1) ++successes;
        }
        probability = probabilityBps(successes);
        bytes32 seed = seeds[period];
        if (seed == 0) return (false, false, 0, probability);
        (challenged, leafIndex) = _challenge(seed, dealId, period, successes, d.leafCount);
        seeded = true;
    }

    // ---------------------------------------------------------------- hosts

    function register(
        bytes calldata peerId,
        uint128 pricePerBytePeriod,
        uint128 stake,
        Permit calldata permit
    ) external nonReentrant {
        _beacon();
        Host storage h = _hosts[msg.sender];
        if (h.registered) revert AlreadyRegistered();
        h.registered = true;
        h.peerId = peerId;
        h.pricePerBytePeriod = pricePerBytePeriod;
        h.stake += stake;
        emit HostRegistered(msg.sender, peerId, pricePerBytePeriod, h.stake);
        _pull(msg.sender, stake, permit);
    }

    /// New price and peer id; deals already open keep their terms.
    function updateHost(bytes calldata peerId, uint128 pricePerBytePeriod) external {
        Host storage h = _hosts[msg.sender];
        if (!h.registered) revert NotRegistered();
        h.peerId = peerId;
        h.pricePerBytePeriod = pricePerBytePeriod;
        emit HostUpdated(msg.sender, peerId, pricePerBytePeriod);
    }

    function addCollateral(uint128 amount, Permit calldata permit) external nonReentrant {
        Host storage h = _hosts[msg.sender];
        if (!h.registered) revert NotRegistered();
        h.stake += amount;
        emit CollateralAdded(msg.sender, amount, h.stake);
        _pull(msg.sender, amount, permit);
    }

    /// Takes out stake not locked by live deals.
    function withdrawCollateral(uint128 amount) external nonReentrant {
        Host storage h = _hosts[msg.sender];
        uint128 free = h.stake - h.locked;
        if (amount > free) revert InsufficientStake(free, amount);
        h.stake -= amount;
        emit CollateralWithdrawn(msg.sender, amount, h.stake);
        token.safeTransfer(msg.sender, amount);
    }

    /// Leaves the market with the whole stake; only once every deal has ended.
    function leave() external nonReentrant {
        Host storage h = _hosts[msg.sender];
        if (!h.registered) revert NotRegistered();
        if (h.activeDeals != 0) revert HasActiveDeals(h.activeDeals);
        uint128 stake = h.stake;
        h.stake = 0;
        h.registered = false;
        emit HostLeft(msg.sender, stake);
        if (stake != 0) token.safeTransfer(msg.sender, stake);
    }

    function cancelQuote(uint64 nonce) external {
        _useNonce(msg.sender, nonce);
        emit QuoteCancelled(msg.sender, nonce);
    }

    function nonceUsed(address host, uint64 nonce) external view returns (bool) {
        return (_nonces[host][nonce >> 8] >> (nonce & 0xff)) & 1 == 1;
    }

    function _useNonce(address host, uint64 nonce) internal {
        uint256 bit = 1 << (nonce & 0xff);
        uint256 word = _nonces[host][nonce >> 8];
        if (word & bit != 0) revert NonceUsed(host, nonce);
        _nonces[host][nonce >> 8] = word | bit;
    }

    function getHost(address host) external view returns (Host memory) {
        return _hosts[host];
    }

    // ---------------------------------------------------------------- deals

    /// EIP-712 digest a host signs to quote these terms to `client`.
    function quoteDigest(address client, DealRequest calldata r) public view returns (bytes32) {
        return _hashTypedDataV4(_quoteHash(client, r));
    }

    function _quoteHash(address client, DealRequest calldata r) internal pure returns (bytes32) {
        // Two static encodings concatenated equal one abi.encode (and keep the stack shallow).
        return
            keccak256(
                bytes.concat(
                    abi.encode(QUOTE_TYPEHASH, client, r.host, r.root, r.size, r.leafCount),
                    abi.encode(r.leafSize, r.duration, r.price, r.expiry, r.nonce)
                )
            );
    }

    /// Opens one deal per request (typically all the shards of a file) and escrows the sum of their
    /// prices from the caller, through `permit` if given. Returns the first deal id; the others
    /// follow consecutively.
    function openDeals(
        DealRequest[] calldata requests,
        Permit calldata permit
    ) external nonReentrant returns (uint256 firstId) {
        uint64 start = _beacon() + 1;
        firstId = nextDealId;
        uint256 total;
        for (uint256 i = 0; i < requests.length; ++i) {
            total += _open(msg.sender, requests[i], i, firstId + i, start);
        }
        nextDealId = firstId + requests.length;
        _pull(msg.sender, total, permit);
    }

    function _open(
        address client,
        DealRequest calldata r,
        uint256 i,
        uint256 id,
        uint64 start
    ) internal returns (uint128) {
        _checkShard(r, i);
        if (block.timestamp > r.expiry) revert QuoteExpired(i);
        Host storage h = _hosts[r.host];
        if (!h.registered) revert NotRegistered();
        if (uint256(r.price) < uint256(r.size) * h.pricePerBytePeriod * r.duration) revert PriceBelowRate(i);
        _useNonce(r.host, r.nonce);
        if (!SignatureChecker.isValidSignatureNow(r.host, quoteDigest(client, r), r.signature)) {
            revert BadSignature(i);
        }
        uint128 collateral = uint128((uint256(r.price) * collateralBps) / 10000);
        uint128 free = h.stake - h.locked;
        if (collateral > free) revert InsufficientStake(free, collateral);
        h.locked += collateral;
        ++h.activeDeals;

        Deal storage d = _deals[id];
        d.client = client;
        d.start = start;
        d.duration = r.duration;
        d.host = r.host;
        d.settled = start;
        d.status = Status.Active;
        d.root = r.root;
        d.size = r.size;
        d.leafCount = r.leafCount;
        d.leafSize = uint16(r.leafSize);
        d.price = r.price;
        d.collateral = collateral;
        d.escrow = r.price;
        _emitOpened(client, r, id, start, collateral);
        if (r.repairOf != 0) _repair(client, r, id);
        return r.price;
    }

    function _emitOpened(
        address client,
        DealRequest calldata r,
        uint256 id,
        uint64 start,
        uint128 collateral
    ) internal {
        emit DealOpened(
            id,
            client,
            r.host,
            r.root,
            r.size,
            r.leafCount,
            r.leafSize,
            start,
            r.duration,
            r.price,
            collateral
        );
    }

    function _checkShard(DealRequest calldata r, uint256 i) internal pure {
        uint256 ls = r.leafSize;
        // leafSize a power of two in 32..4096; leafCount = max(1, ceil(size / leafSize)).
        bool ok = ls >= 32 && ls <= 4096 && ls & (ls - 1) == 0 && r.duration != 0;
        if (ok) {
            uint256 expected = r.size == 0 ? 1 : (uint256(r.size) + ls - 1) / ls;
            ok = r.leafCount == expected;
        }
        if (!ok) revert InvalidShard(i);
    }

    function _repair(address client, DealRequest calldata r, uint256 newId) internal {
        Deal storage old = _deals[r.repairOf];
        if (
            old.client != client ||
            old.status != Status.Failed ||
            old.root != r.root ||
            old.size != r.size ||
            old.leafSize != r.leafSize
        ) revert NotRepairable(r.repairOf);
        old.status = Status.Repaired;
        uint256 bounty = repairBounty[r.repairOf];
        repairBounty[r.repairOf] = 0;
        balanceOf[client] += bounty;
        emit SlotRepaired(r.repairOf, newId, bounty);
    }

    /// The client gives up repairing a failed slot and takes its bounty.
    function releaseBounty(uint256 failedDealId) external {
        Deal storage d = _deals[failedDealId];
        if (d.client != msg.sender) revert NotClient(failedDealId);
        if (d.status != Status.Failed) revert NotRepairable(failedDealId);
        d.status = Status.Repaired;
        uint256 bounty = repairBounty[failedDealId];
        repairBounty[failedDealId] = 0;
        balanceOf[msg.sender] += bounty;
        emit BountyReleased(failedDealId, bounty);
    }

    function getDeal(uint256 dealId) external view returns (Deal memory) {
        return _deals[dealId];
    }

    // ---------------------------------------------------------------- mandates (delegated repair)

    /// The caller (a client) lets `mediator` spend up to `budget` of its tokens on repair deals
    /// until `expiry` (unix seconds), replacing any previous mandate to it; `budget == 0` revokes.
    /// The market pulls the tokens, so the client must also approve (or permit) the market for
    /// them. Bumps the pair's nonce: a signed mandate not yet submitted is void.
    function setMandate(address mediator, uint128 budget, uint64 expiry) external nonReentrant {
        _setMandate(msg.sender, mediator, budget, expiry);
    }

    /// Submits a mandate the client signed (EIP-712 `Mandate`, see `mandateDigest`), so a client
    /// without a transaction of its own (e.g. a browser about to close) can delegate. Anyone may
    /// submit it; it must carry the pair's current nonce, so it is used once and a later
    /// `setMandate` voids it.
    function setMandateBySig(
        address client,
        address mediator,
        uint128 budget,
        uint64 expiry,
        bytes calldata signature
    ) external nonReentrant {
        bytes32 digest = mandateDigest(client, mediator, budget, expiry, _mandates[client][mediator].nonce);
        if (!SignatureChecker.isValidSignatureNow(client, digest, signature)) revert BadMandateSignature();
        _setMandate(client, mediator, budget, expiry);
    }

    /// EIP-712 digest a client signs to grant `mediator` a mandate (with the pair's current nonce).
    function mandateDigest(
        address client,
        address mediator,
        uint128 budget,
        uint64 expiry,
        uint64 nonce
    ) public view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(MANDATE_TYPEHASH, client, mediator, budget, expiry, nonce)));
    }

    function _setMandate(address client, address mediator, uint128 budget, uint64 expiry) internal {
        if (budget != 0 && expiry < block.timestamp) revert MandateExpired(client, mediator, expiry);
        if (budget == 0) expiry = 0;
        Mandate storage m = _mandates[client][mediator];
        uint64 nonce = m.nonce + 1;
        m.budget = budget;
        m.expiry = expiry;
        m.nonce = nonce;
        emit MandateSet(client, mediator, budget, expiry, nonce);
    }

    function getMandate(address client, address mediator) external view returns (Mandate memory) {
        return _mandates[client][mediator];
    }

    /// A mediator opens repair deals for `client` under its mandate: every request repairs a
    /// failed deal of the client's (`repairOf`, same root, size and leaf size), its quote names the
    /// client, the deal is the client's (refunds, bounty, ending), and the sum of prices is pulled
    /// from the client's tokens (through `permit`, signed by the client, if given) and taken off the
    /// budget. The mediator is credited nothing and has no right over the deals it opened.
    function openRepairDeals(
        address client,
        DealRequest[] calldata requests,
        Permit calldata permit
    ) external nonReentrant returns (uint256 firstId) {
        Mandate storage m = _mandates[client][msg.sender];
        uint128 budget = m.budget;
        uint64 expiry = m.expiry;
        if (expiry == 0) revert NoMandate(client, msg.sender);
        if (block.timestamp > expiry) revert MandateExpired(client, msg.sender, expiry);
        uint64 start = _beacon() + 1;
        firstId = nextDealId;
        uint256 total;
        for (uint256 i = 0; i < requests.length; ++i) {
            if (requests[i].repairOf == 0) revert NotARepair(i);
            total += _open(client, requests[i], i, firstId + i, start);
        }
        if (total > budget) revert OverBudget(budget, total);
        uint128 remaining = budget - uint128(total);
        m.budget = remaining;
        nextDealId = firstId + requests.length;
        emit MandateUsed(client, msg.sender, firstId, requests.length, uint128(total), remaining);
        _pull(client, total, permit);
    }

    // ---------------------------------------------------------------- proofs

    /// The host answers this period's challenge of `dealId` with the challenged leaf (exactly
    /// `leafSize` bytes) and its siblings, concatenated bottom-up (the codec's wire encoding).
    function submitProof(uint256 dealId, bytes calldata leaf, bytes calldata proof) external nonReentrant {
        uint64 period = _beacon();
        Deal storage d = _deals[dealId];
        if (d.host != msg.sender) revert NotHost(dealId);
        if (d.status != Status.Active) revert DealNotActive(dealId);
        if (period < d.start || period >= d.start + d.duration) revert OutsideDeal(dealId, period);
        _settle(dealId, d, period, msg.sender);
        if (d.status != Status.Active) revert DealNotActive(dealId);
        if (d.lastProof == period + 1) revert AlreadyProven(dealId, period);
        (bool challenged, uint64 leafIndex) = _challenge(seeds[period], dealId, period, d.successes, d.leafCount);
        if (!challenged) revert NotChallenged(dealId, period);
        if (!ShardMerkle.verify(d.root, d.leafCount, d.leafSize, leafIndex, leaf, proof)) {
            revert InvalidProof(dealId);
        }
        d.lastProof = period + 1;
        emit ProofAccepted(dealId, period, leafIndex);
    }

    /// Checks a proof in the codec's format against any root (for clients and tests; no state).
    function verifyShardProof(
        bytes32 root,
        uint64 leafCount,
        uint32 leafSize,
        uint64 index,
        bytes calldata leaf,
        bytes calldata proof
    ) external view returns (bool) {
        return ShardMerkle.verify(root, leafCount, leafSize, index, leaf, proof);
    }

    // ---------------------------------------------------------------- settlement

    /// Settles up to `maxPeriods` closed periods of a deal (anyone may call; rewards for misses
    /// found go to the caller). Long-idle deals can be settled in chunks this way.
    function settle(uint256 dealId, uint64 maxPeriods) external nonReentrant {
        uint64 now_ = _beacon();
        Deal storage d = _deals[dealId];
        uint64 until = d.settled + maxPeriods;
        _settle(dealId, d, until < now_ ? until : now_, msg.sender);
    }

    /// Reports that the host missed the challenge of `period` (closed): settles through it and
    /// pays the caller the reporter's share of the slash.
    function reportMiss(uint256 dealId, uint64 period) external nonReentrant {
        uint64 now_ = _beacon();
        if (period >= now_) revert PeriodNotClosed(period);
        Deal storage d = _deals[dealId];
        uint8 before = d.misses;
        _settle(dealId, d, period + 1, msg.sender);
        if (d.misses == before) revert NoMiss(dealId, period);
    }

    function _share(uint128 price, uint32 duration, uint64 i) internal pure returns (uint128) {
        return uint128((uint256(price) * (i + 1)) / duration - (uint256(price) * i) / duration);
    }

    /// Walks periods [d.settled, until) in order: unseeded periods and misses refund their share to
    /// the client, unchallenged and proven ones pay the host; a miss slashes collateral.
    function _settle(uint256 dealId, Deal storage d, uint64 until, address caller) internal {
        if (d.status != Status.Active) return;
        uint64 end = d.start + d.duration;
        if (until > end) until = end;
        uint64 from = d.settled;
        if (from >= until) return;
        uint128 paid;
        uint128 refund;
        uint32 successes = d.successes;
        bool failed;
        uint64 q = from;
        for (; q < until; ++q) {
            uint128 share = _share(d.price, d.duration, q - d.start);
            bytes32 seed = seeds[q];
            if (seed == 0) {
                refund += share;
                continue;
            }
            (bool challenged, ) = _challenge(seed, dealId, q, successes, d.leafCount);
            if (!challenged) {
                paid += share;
            } else if (d.lastProof == q + 1) {
                paid += share;
                ++successes;
            } else {
                refund += share;
                if (_slash(dealId, d, q, caller)) {
                    failed = true;
                    ++q;
                    break;
                }
            }
        }
        d.settled = q;
        d.successes = successes;
        d.earned += paid;
        uint128 escrow = d.escrow - paid - refund;
        if (failed) {
            refund += escrow;
            escrow = 0;
        }
        d.escrow = escrow;
        if (refund != 0) balanceOf[d.client] += refund;
        emit Settled(dealId, from, q, paid, refund);
        if (failed) {
            d.status = Status.Failed;
            --_hosts[d.host].activeDeals;
            emit DealEnded(dealId, EndReason.Missed, escrow);
        } else if (q == end) {
            _close(dealId, d, Status.Completed);
            emit DealEnded(dealId, EndReason.Completed, 0);
        }
    }

    /// Slashes one miss's worth of the deal's collateral; returns true on the deal's last miss.
    function _slash(uint256 dealId, Deal storage d, uint64 period, address caller) internal returns (bool last) {
        uint8 misses = d.misses + 1;
        d.misses = misses;
        uint128 amount = d.collateral / (maxMisses - misses + 1);
        d.collateral -= amount;
        Host storage h = _hosts[d.host];
        h.stake -= amount;
        h.locked -= amount;
        uint128 reward = uint128((uint256(amount) * reporterBps) / 10000);
        // A host settling its own miss earns no reward: that share compensates the client.
        address rewardTo = caller == d.host ? d.client : caller;
        balanceOf[rewardTo] += reward;
        uint128 rest = amount - reward;
        last = misses >= maxMisses;
        // The last miss ends the deal: its compensation becomes the slot's repair bounty.
        if (last) repairBounty[dealId] += rest;
        else balanceOf[d.client] += rest;
        emit Slashed(dealId, period, rewardTo, reward, rest, misses);
    }

    /// Unlocks the remaining collateral and retires the deal.
    function _close(uint256, Deal storage d, Status status) internal {
        Host storage h = _hosts[d.host];
        h.locked -= d.collateral;
        d.collateral = 0;
        --h.activeDeals;
        d.status = status;
    }

    /// The client ends a deal early: closed periods are settled (the host keeps what it earned),
    /// the rest of the escrow, the current period included, returns to the client.
    function endDeal(uint256 dealId) external nonReentrant {
        uint64 now_ = _beacon();
        Deal storage d = _deals[dealId];
        if (d.client != msg.sender) revert NotClient(dealId);
        if (d.status != Status.Active) revert DealNotActive(dealId);
        _settle(dealId, d, now_, msg.sender);
        if (d.status != Status.Active) return;
        uint128 refund = d.escrow;
        d.escrow = 0;
        balanceOf[msg.sender] += refund;
        _close(dealId, d, Status.Ended);
        emit DealEnded(dealId, EndReason.ClientEnded, refund);
    }

    /// The host walks away from a live deal: it keeps what closed periods earned, forfeits the
    /// deal's whole remaining collateral (the slot's repair bounty), and the client is refunded.
    function abandonDeal(uint256 dealId) external nonReentrant {
        uint64 now_ = _beacon();
        Deal storage d = _deals[dealId];
        if (d.host != msg.sender) revert NotHost(dealId);
        if (d.status != Status.Active) revert DealNotActive(dealId);
        _settle(dealId, d, now_, msg.sender);
        if (d.status != Status.Active) return;
        uint128 refund = d.escrow;
        d.escrow = 0;
        balanceOf[d.client] += refund;
        uint128 forfeit = d.collateral;
        d.collateral = 0;
        Host storage h = _hosts[msg.sender];
        h.stake -= forfeit;
        h.locked -= forfeit;
        --h.activeDeals;
        repairBounty[dealId] += forfeit;
        d.status = Status.Failed;
        emit DealEnded(dealId, EndReason.HostAbandoned, refund);
    }

    // ---------------------------------------------------------------- withdrawals

    /// The host settles the given deals, collects their earnings and withdraws everything it is
    /// owed (earnings plus any `balanceOf`).
    function claim(uint256[] calldata dealIds) external nonReentrant returns (uint256 amount) {
        uint64 now_ = _beacon();
        for (uint256 i = 0; i < dealIds.length; ++i) {
            Deal storage d = _deals[dealIds[i]];
            if (d.host != msg.sender) revert NotHost(dealIds[i]);
            _settle(dealIds[i], d, now_, msg.sender);
            amount += d.earned;
            d.earned = 0;
        }
        emit Claimed(msg.sender, amount);
        amount += balanceOf[msg.sender];
        balanceOf[msg.sender] = 0;
        if (amount == 0) revert NothingToWithdraw();
        emit Withdrawn(msg.sender, amount);
        token.safeTransfer(msg.sender, amount);
    }

    /// Withdraws refunds, compensation, rewards and bounties credited to the caller.
    function withdraw() external nonReentrant returns (uint256 amount) {
        amount = balanceOf[msg.sender];
        if (amount == 0) revert NothingToWithdraw();
        balanceOf[msg.sender] = 0;
        emit Withdrawn(msg.sender, amount);
        token.safeTransfer(msg.sender, amount);
    }

    function _pull(address from, uint256 amount, Permit calldata permit) internal {
        if (permit.deadline != 0) {
            // A permit copied from the mempool and used first must not block the deposit: if it
            // fails, the allowance it granted is already there.
            try
                IERC20Permit(address(token)).permit(
                    from,
                    address(this),
                    permit.value,
                    permit.deadline,
                    permit.v,
                    permit.r,
                    permit.s
                )
            {} catch {}
        }
        if (amount != 0) token.safeTransferFrom(from, address(this), amount);
    }
}
