// The demo storefront: one document for every page, drawn from the path; the cart lives in
// localStorage; the backend is /shop/api/... on the same origin (the SDK sends traceparent).
(function () {
  'use strict';
  var PRODUCTS = [
    { id: 1, name: 'Espresso cup', price: 12.5, icon: '\u2615' },
    { id: 2, name: 'Tea pot', price: 34.0, icon: '\uD83E\uDED6' },
    { id: 3, name: 'Notebook', price: 8.9, icon: '\uD83D\uDCD3' },
    { id: 4, name: 'Desk lamp', price: 49.0, icon: '\uD83D\uDCA1' },
    { id: 5, name: 'Headphones', price: 89.0, icon: '\uD83C\uDFA7' },
    { id: 6, name: 'Backpack', price: 59.0, icon: '\uD83C\uDF92' }
  ];
  var main = document.getElementById('main');

  function cart() {
    try { return JSON.parse(localStorage.getItem('demo-shop-cart') || '[]'); } catch (e) { return []; }
  }
  function saveCart(items) {
    localStorage.setItem('demo-shop-cart', JSON.stringify(items));
    document.getElementById('cart-count').textContent = String(items.length);
  }
  function product(id) {
    for (var i = 0; i < PRODUCTS.length; i++) if (PRODUCTS[i].id === id) return PRODUCTS[i];
    return null;
  }
  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function api(method, path) {
    return fetch('/shop/api/' + path, { method: method, headers: { 'content-type': 'application/json' }, body: method === 'POST' ? '{}' : undefined })
      .then(function (r) { return r.json().catch(function () { return {}; }).then(function (b) { b.httpStatus = r.status; return b; }); });
  }
  function status(text, bad) {
    var s = document.getElementById('status');
    s.textContent = text;
    s.className = bad ? 'error' : '';
  }

  // The quote widget of the cart and checkout pages. Release 2.4.0 reads the shipping amount
  // from a field the cart does not have yet: the error of the demo's bad release.
  function renderQuote(box, items) {
    var quote = window.SHOP_RELEASE === '2.4.0' ? { total: items.length } : { total: items.length, shipping: { amount: 4.9 } };
    setTimeout(function () {
      box.textContent = 'Shipping: ' + quote.shipping.amount.toFixed(2) + ' EUR';
    }, 0);
  }

  function listPage() {
    main.appendChild(el('h1', {}, 'Products'));
    var grid = el('div', { class: 'grid' });
    PRODUCTS.forEach(function (p) {
      var card = el('div', { class: 'card' });
      var link = el('a', { href: '/shop/products/' + p.id, id: 'product-' + p.id });
      link.appendChild(el('div', { class: 'hero' }, p.icon));
      link.appendChild(el('div', {}, p.name));
      card.appendChild(link);
      card.appendChild(el('div', { class: 'note' }, p.price.toFixed(2) + ' EUR'));
      grid.appendChild(card);
    });
    main.appendChild(grid);
    main.appendChild(el('p', { id: 'status' }));
    api('GET', 'products').then(function (r) { if (!r.ok) status('The catalog is slow to answer (' + r.httpStatus + ').', true); });
  }

  function productPage(id) {
    var p = product(id);
    if (!p) { main.appendChild(el('h1', {}, 'No such product')); return; }
    main.appendChild(el('div', { class: 'hero' }, p.icon));
    main.appendChild(el('h1', {}, p.name));
    main.appendChild(el('p', {}, p.price.toFixed(2) + ' EUR'));
    var add = el('button', { id: 'add-to-cart' }, 'Add to cart');
    main.appendChild(add);
    main.appendChild(el('p', { id: 'status' }));
    api('GET', 'products/' + id);
    add.addEventListener('click', function () {
      add.disabled = true;
      api('POST', 'cart').then(function (r) {
        add.disabled = false;
        if (!r.ok) { status('Could not add it to the cart (' + r.httpStatus + ').', true); return; }
        var items = cart();
        items.push(id);
        saveCart(items);
        redscope.sendEvent('cart.item_added', { 'product.id': id, 'cart.items': items.length });
        status('Added. ');
        var go = el('a', { href: '/shop/cart', id: 'go-to-cart' }, 'Go to the cart');
        document.getElementById('status').appendChild(go);
      });
    });
  }

  function cartPage() {
    var items = cart();
    main.appendChild(el('h1', {}, 'Cart'));
    if (!items.length) { main.appendChild(el('p', {}, 'Your cart is empty.')); return; }
    var list = el('ul');
    var total = 0;
    items.forEach(function (id) {
      var p = product(id);
      if (!p) return;
      total += p.price;
      list.appendChild(el('li', {}, p.name + ' \u2014 ' + p.price.toFixed(2) + ' EUR'));
    });
    main.appendChild(list);
    main.appendChild(el('p', {}, 'Total: ' + total.toFixed(2) + ' EUR'));
    var quote = el('p', { class: 'note' });
    main.appendChild(quote);
    renderQuote(quote, items);
    main.appendChild(el('a', { href: '/shop/checkout', id: 'to-checkout' }, 'Checkout'));
  }

  function checkoutPage() {
    var items = cart();
    main.appendChild(el('h1', {}, 'Checkout'));
    main.appendChild(el('p', {}, items.length + ' item(s) in the cart.'));
    var quote = el('p', { class: 'note' });
    main.appendChild(quote);
    renderQuote(quote, items);
    var place = el('button', { id: 'place-order' }, 'Place order');
    main.appendChild(place);
    main.appendChild(el('p', { id: 'status' }));
    place.addEventListener('click', function () {
      place.disabled = true;
      status('Placing the order\u2026');
      api('POST', 'checkout').then(function (r) {
        place.disabled = false;
        if (!r.ok) { status('The order failed (' + r.httpStatus + '). Try again.', true); return; }
        saveCart([]);
        redscope.sendEvent('order.placed', { 'cart.items': items.length });
        status('Thank you, your order is placed.');
      });
    });
  }

  saveCart(cart());
  var path = location.pathname.replace(/\/+$/, '') || '/shop';
  var m = /^\/shop\/products\/(\d+)$/.exec(path);
  main.textContent = '';
  if (m) productPage(Number(m[1]));
  else if (path === '/shop/cart') cartPage();
  else if (path === '/shop/checkout') checkoutPage();
  else listPage();
})();
