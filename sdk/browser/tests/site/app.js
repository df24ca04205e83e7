// The test shop's own code: a fetch to its backend, an SPA navigation, a thrown error.
window.shop = {
  async load() {
    const r = await fetch('/api/data?item=42');
    const data = await r.json();
    document.getElementById('out').textContent = 'loaded ' + data.items;
    return data;
  },
  xhr() {
    return new Promise((resolve) => {
      const x = new XMLHttpRequest();
      x.open('GET', '/api/data?via=xhr');
      x.onloadend = () => resolve(x.status);
      x.send();
    });
  },
  navigate(path) {
    history.pushState({}, '', path);
    document.querySelector('h1').textContent = 'Checkout';
  },
  fail() {
    setTimeout(function checkoutButtonHandler() {
      throw new TypeError('cart is undefined in the test shop');
    }, 0);
  },
};
document.getElementById('buy').addEventListener('click', () => window.shop.load());
